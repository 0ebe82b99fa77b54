import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The external billing service proves a webhook is its own with an HMAC-SHA256 of the raw body,
 * keyed with BILLING_WEBHOOK_SECRET, sent hex-encoded in `X-Billing-Signature` (bare, or as
 * `sha256=<hex>` like GitHub and Stripe-style senders). The raw body is what is signed: parsing
 * and re-serialising JSON would change bytes the sender signed.
 */

const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function signWebhookBody(rawBody: string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex');
}

/**
 * The signature's 64 hex digits, lower case, or undefined when the header is not a signature
 * at all (absent, another algorithm, wrong length): that is a refusal, never a comparison.
 */
export function parseSignatureHeader(header: string | undefined): string | undefined {
  const value = (header ?? '').trim();
  const hex = (value.toLowerCase().startsWith('sha256=') ? value.slice(7) : value).toLowerCase();
  return HEX_SHA256.test(hex) ? hex : undefined;
}

/** Constant-time: both sides are 32-byte digests, so neither length nor content leaks timing. */
export function webhookSignatureMatches(rawBody: string, signatureHex: string, secret: string): boolean {
  const expected = Buffer.from(signWebhookBody(rawBody, secret), 'hex');
  const presented = Buffer.from(signatureHex, 'hex');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/**
 * Names the billing.sync job of one delivery: a redelivered (or replayed) webhook has the same
 * body, so the same signature, so the same job id; the outbox's unique job id makes it one job.
 * Hashed, because the signature itself is a MAC we would rather not store in Redis and PostgreSQL.
 */
export function webhookRequestKey(signatureHex: string): string {
  return createHash('sha256').update(signatureHex, 'utf8').digest('hex').slice(0, 32);
}
