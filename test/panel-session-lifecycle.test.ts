import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { PanelSession } from '../src/db/entities/index.ts';
import { noLiveEvents } from '../src/domain/live-events.ts';
import { createHttpApp } from '../src/http/app.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createRedisConnection } from '../src/queue/redis-connection.ts';
import { createTenantDirectory } from '../src/tenants/tenant-directory.ts';
import { authHeader } from './helpers/init-data.ts';
import { loginWidgetFor } from './helpers/login-widget.ts';
import { panelLogin, withCookie } from './helpers/panel-login.ts';
import { seedUsers } from './helpers/seed.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const OWNER = 961001;
const CSRF = { 'x-requested-with': 'coach-panel', 'content-type': 'application/json' };
let system: TestSystem;

test.before(async () => {
  system = await startTestSystem({
    worker: false,
    env: { TELEGRAM_ADMINS: String(OWNER), TRUST_PROXY: '1' },
  });
  await seedUsers(system.em(), [961002, 961003], { role: 'support' });
});
test.after.always(async () => {
  await system?.stop();
});

const { login, loggedIn, newAddress } = panelLogin(() => system);

test('signed Login Widget data works once: the same data again (a logged or shared URL) is refused', async (t) => {
  const fields = loginWidgetFor(961002);
  const first = await login(fields);
  t.is(first.status, 200);
  const replay = await login(fields, { ip: newAddress() });
  t.is(replay.status, 401);
  t.is(replay.body.error?.code, 'login_already_used');
  t.deepEqual(replay.setCookie, []);
  t.is(await system.em().count(PanelSession, { telegramId: '961002' }), 1, 'no second session');
});

test('revoking a role ends that admin’s browser sessions: granting it again does not revive an old cookie', async (t) => {
  const cookie = await loggedIn(961003);
  t.is((await system.request('/api/panel/applications', withCookie(cookie))).status, 200);
  const owner = authHeader({ id: OWNER });
  const revoke = await system.request('/api/panel/admins/961003', { method: 'DELETE', auth: owner });
  t.is(revoke.status, 204, await revoke.clone().text());
  t.is(await system.em().count(PanelSession, { telegramId: '961003' }), 0);
  const grant = await system.request('/api/panel/admins/961003', {
    method: 'PUT',
    auth: owner,
    headers: CSRF,
    body: JSON.stringify({ role: 'support' }),
  });
  t.is(grant.status, 200, await grant.clone().text());
  const old = await system.request('/api/panel/applications', withCookie(cookie));
  t.is(old.status, 401);
  t.is((await old.json()).error.code, 'invalid_session');
});

test('login attempts are limited per address: the 21st in a minute is 429', async (t) => {
  const ip = newAddress();
  const forged = loginWidgetFor(961010, { token: '1:forged-token-forged-token-x' });
  for (let i = 0; i < 20; i++) t.is((await login(forged, { ip })).status, 401);
  const limited = await login(loginWidgetFor(OWNER), { ip });
  t.is(limited.status, 429);
  t.is(limited.body.error?.code, 'rate_limited');
  t.deepEqual(limited.setCookie, []);
  t.is((await login(loginWidgetFor(OWNER))).status, 200, 'another address is not limited');
});

test('without a bot token the login is 503 auth_not_configured', async (t) => {
  const config = { ...system.config, telegram: { ...system.config.telegram, botToken: undefined } };
  const redis = createRedisConnection(TEST_REDIS_URL, 'producer', 'panel-session-test');
  const app = createHttpApp({
    config,
    orm: system.orm,
    tenants: createTenantDirectory({ orm: system.orm, config, logger: system.logger }),
    redis,
    logger: system.logger,
    metrics: createMetrics(),
    webhookBots: undefined,
    liveEvents: noLiveEvents,
    queues: [],
    isShuttingDown: () => false,
  });
  const server = createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await new Promise((resolve) => server.close(resolve));
    redis.disconnect();
  });
  const response = await fetch(
    `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/panel/session`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': newAddress() },
      body: JSON.stringify(loginWidgetFor(OWNER)),
    },
  );
  t.is(response.status, 503);
  t.is((await response.json()).error.code, 'auth_not_configured');
});
