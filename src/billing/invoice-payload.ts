import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The `payload` of a Stars invoice: which tenant, plan and user it is for, signed so that nobody
 * can make Telegram charge for a plan, price or person we did not offer. Telegram limits payloads
 * to 128 bytes, so ids travel as 22-character base64url and the HMAC is cut to 128 bits:
 * `s1.<tenant>.<plan>.<user>.<mac>` is 96 bytes.
 */
export interface InvoiceTarget {
  tenantId: string;
  planId: string;
  userId: string;
}

const VERSION = 's1';
const MAC_BYTES = 16;

/** The key is derived from the bot token: each coach's bot signs and checks its own invoices. */
export function invoiceKey(botToken: string): Buffer {
  return createHash('sha256').update(`stars-invoice-payload\0${botToken}`).digest();
}

export function signInvoicePayload(target: InvoiceTarget, key: Buffer): string {
  const body = [VERSION, compact(target.tenantId), compact(target.planId), compact(target.userId)].join('.');
  return `${body}.${mac(body, key).toString('base64url')}`;
}

/** The target when `payload` is one of ours, unaltered; undefined for anything else. */
export function verifyInvoicePayload(payload: unknown, key: Buffer): InvoiceTarget | undefined {
  if (typeof payload !== 'string' || payload.length > 128) return undefined;
  const parts = payload.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
  const body = parts.slice(0, 4).join('.');
  const presented = Buffer.from(parts[4]!, 'base64url');
  // Canonical encodings only: base64url's last character carries unused bits, and two spellings
  // of one payload would be two "different" invoices with one signature.
  if (presented.length !== MAC_BYTES || presented.toString('base64url') !== parts[4]) return undefined;
  if (!timingSafeEqual(presented, mac(body, key))) return undefined;
  const [tenantId, planId, userId] = parts.slice(1, 4).map(expand);
  if (!tenantId || !planId || !userId) return undefined;
  return { tenantId, planId, userId };
}

/**
 * The target a payload names, without checking its signature: only for a payload already accepted
 * once (a renewal of a subscription signed with a bot token that has since changed).
 */
export function readInvoicePayload(payload: string): InvoiceTarget | undefined {
  const parts = payload.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION) return undefined;
  const [tenantId, planId, userId] = parts.slice(1, 4).map(expand);
  return tenantId && planId && userId ? { tenantId, planId, userId } : undefined;
}

function mac(body: string, key: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES);
}

function compact(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}

function expand(text: string): string | undefined {
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== 16 || bytes.toString('base64url') !== text) return undefined;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
