import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import pg from 'pg';
import { SELECT_USER_BY_TELEGRAM_ID as PROJECT_SELECT_USER } from '../../src/domain/users.ts';
import { type InitDataUser, validateInitData } from '../../src/telegram/init-data.ts';

/**
 * A baseline Koa app listening on an ephemeral port of 127.0.0.1, in this process. close() waits
 * for handlers still running when wrk hung up, so none of them meets a pool that has ended.
 */
export async function listen(app: Koa): Promise<{ url: string; close(): Promise<void> }> {
  let inFlight = 0;
  app.middleware.unshift(async (_ctx, next) => {
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + 10_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  };
}

/**
 * The baselines check initData with the project's own validator (one HMAC per request, secret key
 * cached): the signature check is work any implementation must do, so it stays out of the ratio.
 */
export function initDataUser(ctx: Koa.Context, botToken: string, maxAgeSeconds: number): InitDataUser {
  const match = /^tma (.+)$/s.exec(ctx.get('authorization'));
  if (!match) ctx.throw(401);
  return validateInitData(match[1]!, { botToken, maxAgeSeconds }).user;
}

/** The project's web process gets a pool of 10 in startTestSystem; the baselines get the same. */
export function rawPool(url: string): pg.Pool {
  return new pg.Pool({ connectionString: url, max: 10 });
}

/**
 * A statement of the project (written with MikroORM's `?` placeholders) as `pg` takes it: the
 * baselines run the project's own SQL texts, imported, so the two sides cannot drift apart.
 */
export function pgText(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The user row the project's auth reads on every request (fresh users are not written). */
export const SELECT_USER_BY_TELEGRAM_ID = pgText(PROJECT_SELECT_USER);
