import Router from '@koa/router';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz: the process answers. /readyz: PostgreSQL and Redis answer within a second. */
export function healthRoutes(deps: { orm: MikroORM; redis: Redis; isShuttingDown(): boolean }): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const check = async (probe: () => Promise<unknown>) => {
      try {
        await withTimeout(probe(), 1_000);
        return 'ok';
      } catch {
        return 'down';
      }
    };
    const [postgres, redis] = await Promise.all([
      check(() => deps.orm.em.getConnection().execute('select 1')),
      check(() => deps.redis.ping()),
    ]);
    const ready = postgres === 'ok' && redis === 'ok' && !deps.isShuttingDown();
    ctx.status = ready ? 200 : 503;
    ctx.body = {
      status: ready ? 'ready' : 'unavailable',
      checks: { postgres, redis },
      shuttingDown: deps.isShuttingDown(),
    };
  });
  return router;
}
