import type { AddressInfo } from 'node:net';
import test from 'ava';
import { Redis } from 'ioredis';
import type pino from 'pino';
import { createLogger } from '../src/config/logger.ts';
import { AuditLog, Outbox, TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import type { LiveEvent } from '../src/domain/live-events.ts';
import { metricsRecomputePayload } from '../src/domain/metrics-trigger.ts';
import { createHttpApp } from '../src/http/app.ts';
import { panelClientRoutes } from '../src/http/routes/panel-client-routes.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { authHeader } from './helpers/init-data.ts';
import { seedSubscription, seedUsers } from './helpers/seed.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const OWNER = 600001;
const owner = authHeader({ id: OWNER });
const PERIOD_END = new Date('2027-01-01T00:00:00.000Z');
let system: TestSystem;
const redises: Redis[] = [];
let clients: TelegramUser[];
test.before(async () => {
  system = await startTestSystem({ worker: false, env: { TELEGRAM_ADMINS: String(OWNER) } });
  const em = system.em();
  clients = await seedUsers(
    em,
    Array.from({ length: 12 }, (_, i) => 610000 + i),
    { isClient: true },
  );
  await seedUsers(em, [620001, 620002]);
  // Distinct ages, two sharing one, so the id tie-breaker matters.
  clients.forEach((client, i) => {
    client.createdAt = new Date(Date.now() - 3_600_000 + Math.min(i, 10) * 1000);
  });
  // Six clients have a subscription: one ended by expiry, one refunded, one cancelled, three active.
  const ended = { renews: false, endedAt: new Date('2026-11-20T00:00:00.000Z') };
  const statuses = [
    { status: 'expired', ...ended },
    { status: 'refunded', ...ended },
    { status: 'cancelled', renews: false },
    {},
    {},
    {},
  ] as const;
  for (const [i, client] of clients.slice(0, 6).entries()) {
    seedSubscription(em, client, { currentPeriodEnd: PERIOD_END, ...statuses[i] });
  }
  await em.flush();
});
test.after.always(async () => {
  for (const redis of redises) redis.disconnect();
  await system?.stop();
});

/** The clients router alone, with a live-event recorder the test controls. */
async function clientsApp() {
  const logs: string[] = [];
  const logger = createLogger('debug', {
    write: (line: string) => logs.push(line),
  } as pino.DestinationStream);
  const events: LiveEvent[] = [];
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  redises.push(redis);
  const app = createHttpApp({
    config: system.config,
    orm: system.orm,
    tenants: system.tenantDirectory,
    redis,
    logger,
    metrics: createMetrics(),
    webhookBots: undefined,
    queues: [],
    routes: panelClientRoutes,
    liveEvents: { publish: (_tenant, event) => events.push(event) },
    isShuttingDown: () => false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    logs,
    events,
    request: (path: string, init: RequestInit = {}) =>
      fetch(`${base}${path}`, { ...init, headers: { authorization: owner } }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

test.serial("each page of clients shows every client's subscription from the local table", async (t) => {
  const app = await clientsApp();
  t.teardown(app.close);
  const items: { telegramId: string; subscription: unknown }[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await app.request(`/api/panel/clients?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
    t.is(response.status, 200);
    const body = await response.json();
    items.push(...body.items);
    cursor = body.nextCursor;
    pages++;
  } while (cursor);
  t.is(pages, 3);
  const newestFirst = [...clients]
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id < a.id ? -1 : 1))
    .map((client) => client.telegramId);
  t.deepEqual(
    items.map((item) => item.telegramId),
    newestFirst,
    'clients only, newest first',
  );
  const byTelegramId = new Map(items.map((item) => [item.telegramId, item.subscription]));
  const view = (status: string, renews: boolean) => ({
    planTitle: 'Monthly coaching',
    status,
    currentPeriodEnd: '2027-01-01T00:00:00.000Z',
    renews,
  });
  // Ended subscriptions are shown as what they are, not hidden and not as "unknown".
  t.deepEqual(byTelegramId.get(clients[0]!.telegramId), view('expired', false));
  t.deepEqual(byTelegramId.get(clients[1]!.telegramId), view('refunded', false));
  t.deepEqual(byTelegramId.get(clients[2]!.telegramId), view('cancelled', false));
  t.deepEqual(byTelegramId.get(clients[5]!.telegramId), view('active', true));
  t.is(byTelegramId.get(clients[11]!.telegramId), null, 'no subscription');
  t.is(items.filter((item) => item.subscription !== null).length, 6);
});

test.serial('remove a client: 204, audited, live event, then 404', async (t) => {
  const app = await clientsApp();
  t.teardown(app.close);
  const target = clients[3]!;
  const before = new Date();
  const response = await app.request(`/api/panel/clients/${target.telegramId}`, { method: 'DELETE' });
  t.is(response.status, 204);
  const em = system.em();
  // The subscriber counts changed: a metrics recompute is queued with the removal.
  const triggers = [before, new Date()].map((at) =>
    jobIdOf('metrics.recompute', metricsRecomputePayload(DEFAULT_TENANT_ID, at)),
  );
  t.true((await em.count(Outbox, { jobId: { $in: triggers } })) >= 1);
  t.false((await em.findOneOrFail(TelegramUser, { id: target.id })).isClient);
  const audit = await em.findOneOrFail(AuditLog, { targetId: target.id });
  t.like(audit, { action: 'client.remove', targetType: 'user' });
  t.deepEqual(app.events, [{ type: 'client.removed', userId: target.id, telegramId: target.telegramId }]);

  const again = await app.request(`/api/panel/clients/${target.telegramId}`, { method: 'DELETE' });
  t.is(again.status, 404);
  t.is((await again.json()).error.code, 'client_not_found');
  t.is((await app.request('/api/panel/clients/620001', { method: 'DELETE' })).status, 404, 'not a client');
  t.is((await app.request('/api/panel/clients/abc', { method: 'DELETE' })).status, 400);
  t.is(await em.count(AuditLog, { action: 'client.remove' }), 1);
});

test.serial('through the real web process: clients with subscriptions, bad paging is 400', async (t) => {
  const response = await system.request('/api/panel/clients?limit=100', { auth: owner });
  t.is(response.status, 200);
  const body = await response.json();
  t.is(body.items.length, 11, 'the removed client is gone');
  t.is(body.nextCursor, null);
  t.is(body.items.filter((item: { subscription: unknown }) => item.subscription !== null).length, 5);
  t.is((await system.request('/api/panel/clients?limit=0', { auth: owner })).status, 400);
  t.is((await system.request('/api/panel/clients?cursor=zz', { auth: owner })).status, 400);
});
