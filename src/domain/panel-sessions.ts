import { createHash, randomBytes } from 'node:crypto';
import { PanelSession, TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';

/** The cookie's value: 32 random bytes as base64url (43 characters). */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const USER_AGENT_MAX = 256;
/** Expired rows stay this long, so a browser coming back is told "expired", not "invalid". */
const KEEP_EXPIRED_MS = 24 * 3600_000;

export function isSessionToken(value: string): boolean {
  return TOKEN.test(value);
}

/** What the table keys on: a stolen backup holds hashes, and a hash opens nothing. */
export function sessionTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The User-Agent, for telling sessions apart; cut, and made storable (no NUL, no lone surrogates). */
function storableUserAgent(userAgent: string | undefined): string | null {
  const clean = userAgent?.slice(0, USER_AGENT_MAX).toWellFormed().replaceAll('\u0000', '');
  return clean ? clean : null;
}

/** A new session for a Telegram id; only the token's hash is stored, the token goes to the cookie. */
export async function createPanelSession(
  em: EntityManager,
  input: { tenantId: string; telegramId: string; ttlSeconds: number; userAgent?: string; now?: Date },
): Promise<{ token: string; tokenHash: string; expiresAt: Date }> {
  const now = input.now ?? new Date();
  const token = randomBytes(32).toString('base64url');
  const tokenHash = sessionTokenHash(token);
  const expiresAt = new Date(now.getTime() + input.ttlSeconds * 1000);
  // Logins are rare (rate-limited per address), so each one sweeps old expired rows: no job needed.
  await em.nativeDelete(PanelSession, { expiresAt: { $lte: new Date(now.getTime() - KEEP_EXPIRED_MS) } });
  await em.insert(PanelSession, {
    tokenHash,
    tenantId: input.tenantId,
    telegramId: input.telegramId,
    createdAt: now,
    expiresAt,
    userAgent: storableUserAgent(input.userAgent),
  });
  return { token, tokenHash, expiresAt };
}

export type SessionLookup =
  | { ok: true; session: PanelSession; user: TelegramUser }
  | { ok: false; reason: 'invalid_session' | 'session_expired' };

/**
 * The session a cookie's token names, with its user (loaded in `em`, as the Mini App guard loads it).
 * The role is not judged here: the caller checks it on every request, so a revoked role stops at once.
 */
export async function findPanelSession(
  em: EntityManager,
  tenantId: string,
  token: string,
  now = new Date(),
): Promise<SessionLookup> {
  if (!isSessionToken(token)) return { ok: false, reason: 'invalid_session' };
  const session = await em.findOne(PanelSession, { tenantId, tokenHash: sessionTokenHash(token) });
  if (!session) return { ok: false, reason: 'invalid_session' };
  if (session.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'session_expired' };
  const user = await em.findOne(TelegramUser, { tenantId, telegramId: session.telegramId });
  if (!user) return { ok: false, reason: 'invalid_session' };
  return { ok: true, session, user };
}

/** Logout: the row goes, so the token opens nothing anywhere. True when there was one. */
export async function endPanelSession(em: EntityManager, tenantId: string, token: string): Promise<boolean> {
  if (!isSessionToken(token)) return false;
  return (await em.nativeDelete(PanelSession, { tenantId, tokenHash: sessionTokenHash(token) })) > 0;
}

/** Every session of one person (their role was revoked). */
export async function endPanelSessionsOf(
  em: EntityManager,
  tenantId: string,
  telegramId: string,
): Promise<number> {
  return em.nativeDelete(PanelSession, { tenantId, telegramId });
}
