import type { Redis } from 'ioredis';
import { UnauthorizedError } from '../domain/errors.ts';

/**
 * Login Widget data is a bearer credential for as long as it is fresh: in redirect mode it arrives
 * in the panel's URL, which proxies log and browsers may keep. Each signed login is therefore
 * accepted once: its hash is claimed in Redis (shared by every web instance) until it would have
 * expired anyway. Redis down fails the login (503 from the error contract), never opens it.
 */
export async function claimLoginOnce(
  redis: Redis,
  keyPrefix: string,
  login: { hash: string; authDate: Date },
  maxAgeSeconds: number,
  now = Date.now(),
): Promise<void> {
  const ttlMs = Math.max(1000, login.authDate.getTime() + maxAgeSeconds * 1000 - now + 60_000);
  const claimed = await redis.set(`${keyPrefix}:panel-login-used:${login.hash}`, '1', 'PX', ttlMs, 'NX');
  if (claimed !== 'OK') {
    throw new UnauthorizedError(
      'login_already_used',
      'This Telegram login was already used; log in with Telegram again.',
    );
  }
}
