import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import { loadConfig } from '../src/config/env.ts';
import { createLogger } from '../src/config/logger.ts';
import { botApiAuth } from '../src/http/bot-api-auth.ts';
import { errorMiddleware } from '../src/http/error-middleware.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { closeRedis, createRedisConnection } from '../src/queue/redis-connection.ts';
import type { TenantProfile } from '../src/tenants/tenant-directory.ts';
import { expectError } from './helpers/expect-error.ts';
import { uniquePrefix } from './helpers/test-database.ts';

// Bot API authentication in configurations no full system needs to be started for.

const NEW = 'new-secret-bbbbbbbbbbbbbbbbbbbb';

/** The request's tenant (set by tenant resolution in the app): here one with or without its own secret. */
function tenantWith(ownSecret?: string): TenantProfile {
  return {
    slug: 'b',
    isDefault: false,
    botApiSecretDigest: ownSecret && createHash('sha256').update(ownSecret).digest('hex'),
  } as TenantProfile;
}

/** The middleware alone, for configurations no full system needs to be started for. */
async function bareApp(
  env: Record<string, string>,
  redisUrl = 'redis://127.0.0.1:1',
  tenant: TenantProfile = tenantWith(),
) {
  const config = loadConfig({ NODE_ENV: 'test', QUEUE_PREFIX: uniquePrefix('bare'), ...env });
  const redis = createRedisConnection(redisUrl, 'producer', 'bot-api-test');
  const metrics = createMetrics();
  const app = new Koa({
    proxy: config.http.trustedProxyHops > 0,
    maxIpsCount: config.http.trustedProxyHops,
  });
  app.silent = true;
  app.use(errorMiddleware);
  app.use((ctx, next) => {
    ctx.state.tenant = tenant;
    return next();
  });
  app.use(botApiAuth({ config, metrics, redis, logger: createLogger('silent') }));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/bot/users/1`;
  return {
    get: (headers: Record<string, string>) => fetch(url, { headers }),
    async close() {
      await new Promise((resolve) => server.close(resolve));
      await closeRedis(redis);
    },
  };
}

test('no secret configured → 503 bot_api_not_configured', async (t) => {
  const app = await bareApp({});
  try {
    await expectError(t, await app.get({ 'x-bot-api-secret': '' }), 503, 'bot_api_not_configured');
  } finally {
    await app.close();
  }
});

test("a tenant's own secret opens the bot API for that tenant without a platform secret", async (t) => {
  const OWN = 'tenant-own-secret-cccccccccccccccc';
  const app = await bareApp({ BOT_API_RATE_LIMIT_PER_MINUTE: '100' }, undefined, tenantWith(OWN));
  try {
    t.is((await app.get({ 'x-bot-api-secret': OWN })).status, 200);
    await expectError(t, await app.get({ 'x-bot-api-secret': NEW }), 403, 'forbidden');
  } finally {
    await app.close();
  }
  // With both, either works for this tenant.
  const both = await bareApp({ TELEGRAM_BOT_API_SECRET: NEW }, undefined, tenantWith(OWN));
  try {
    t.is((await both.get({ 'x-bot-api-secret': OWN })).status, 200);
    t.is((await both.get({ 'x-bot-api-secret': NEW })).status, 200);
  } finally {
    await both.close();
  }
});

test('Redis down: the limiter falls back to per-instance limiting instead of failing', async (t) => {
  const app = await bareApp({ TELEGRAM_BOT_API_SECRET: NEW, BOT_API_RATE_LIMIT_PER_MINUTE: '2' });
  try {
    const headers = { 'x-bot-api-secret': NEW };
    t.is((await app.get(headers)).status, 200);
    t.is((await app.get(headers)).status, 200);
    await expectError(t, await app.get(headers), 429, 'rate_limited');
  } finally {
    await app.close();
  }
});

test('allowlist matches IPv4-mapped IPv6 addresses and CIDR ranges; bad entries stop the boot', async (t) => {
  const app = await bareApp({
    TELEGRAM_BOT_API_SECRET: NEW,
    BOT_API_ALLOWED_IPS: '10.1.2.3, 192.168.0.0/16',
    TRUST_PROXY: 'true',
  });
  try {
    const from = (ip: string) => app.get({ 'x-bot-api-secret': NEW, 'x-forwarded-for': ip });
    t.is((await from('::ffff:10.1.2.3')).status, 200);
    t.is((await from('192.168.44.5')).status, 200);
    t.is((await from('10.1.2.4')).status, 403);
    t.is((await from('not-an-ip')).status, 403);
  } finally {
    await app.close();
  }
  // Two proxies (a CDN, then a load balancer): the client is the second entry from the right.
  const twoHops = await bareApp({
    TELEGRAM_BOT_API_SECRET: NEW,
    BOT_API_ALLOWED_IPS: '10.1.2.3',
    TRUST_PROXY: '2',
  });
  try {
    const from = (chain: string) => twoHops.get({ 'x-bot-api-secret': NEW, 'x-forwarded-for': chain });
    t.is((await from('6.6.6.6, 10.1.2.3, 172.16.0.9')).status, 200);
    t.is((await from('10.1.2.3, 6.6.6.6, 172.16.0.9')).status, 403);
  } finally {
    await twoHops.close();
  }
  for (const value of ['yes', '11', '-1']) {
    t.throws(() => loadConfig({ TRUST_PROXY: value }), { message: /TRUST_PROXY/ });
  }
  for (const entry of ['10.1.2', '10.0.0.0/33', 'example.com']) {
    const config = loadConfig({ TELEGRAM_BOT_API_SECRET: NEW, BOT_API_ALLOWED_IPS: entry });
    const redis = createRedisConnection('redis://127.0.0.1:1', 'producer', 'bot-api-test');
    t.throws(() => botApiAuth({ config, metrics: createMetrics(), redis, logger: createLogger('silent') }), {
      message: /BOT_API_ALLOWED_IPS/,
    });
    redis.disconnect();
  }
});
