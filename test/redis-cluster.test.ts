import test from 'ava';
import { Redis } from 'ioredis';
import { createAiCallLimiter } from '../src/ai/rate-limited-plan-provider.ts';
import { createTenantAiBudget } from '../src/ai/tenant-ai-budget.ts';
import { Outbox, PersonalPlan } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { createLiveEventPublisher, liveEventsChannel } from '../src/domain/live-events.ts';
import { readMetricsCache, writeMetricsCache } from '../src/domain/metrics-store.ts';
import { claimLoginOnce } from '../src/http/login-replay-guard.ts';
import { createSharedRateLimiter } from '../src/http/shared-rate-limiter.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { QUEUE_NAMES } from '../src/queue/job-catalogue.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { queuePrefixOf } from '../src/queue/queues.ts';
import { closeRedis, createRedisConnection } from '../src/queue/redis-connection.ts';
import { createSendPacer } from '../src/queue/send-pacer.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { loginWidgetFor } from './helpers/login-widget.ts';
import { type LocalRedisCluster, startLocalRedisCluster } from './helpers/redis-cluster.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// The whole system on a 3-master Redis Cluster of its own: every script and multi-key command
// must keep its keys in one hash slot (else CROSSSLOT), and a lost shard must be visible to the
// operator without taking the processes down. The last test kills a master, so the order matters.
const OWNER = 960001;
let cluster: LocalRedisCluster;
let system: TestSystem;

test.before(async () => {
  cluster = await startLocalRedisCluster(3);
  system = await startTestSystem({
    redisCluster: cluster.nodes,
    env: { TELEGRAM_ADMINS: String(OWNER), TELEGRAM_MESSAGES_PER_SECOND: '200', TRUST_PROXY: '1' },
    telegramLimits: { globalPerSecond: 1000 },
  });
});
/** The master the last test killed, until it is back: BullMQ's Worker.close waits for its shard. */
let killed: number | undefined;
test.after.always(async () => {
  if (killed !== undefined) {
    // A Worker closed while its shard is down (or still recovering) never finishes closing, so
    // bring the shard back and let the workers reconnect first (docs/operations.md).
    await cluster.restart(killed).catch(() => {});
    await waitFor(
      'ready before stopping',
      async () => (await system.request('/readyz')).status === 200,
      20_000,
    ).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
  await system?.stop();
  await cluster?.stop();
});

const owner = authHeader({ id: OWNER });

test.serial('ready on the cluster: /readyz checks every master', async (t) => {
  // The cluster client discovers the slots and connects to each master after boot; on a loaded
  // machine that can outlast the first probe, which then rightly answers 503.
  await waitFor('ready on the cluster', async () => (await system.request('/readyz')).status === 200, 20_000);
  const response = await system.request('/readyz');
  t.is(response.status, 200);
  t.like(await response.json(), { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
});

test.serial('survey → plan ready → bot message, with queues on a cluster', async (t) => {
  const auth = authHeader({ id: 961001, first_name: 'Kim', language_code: 'en' });
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth,
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(response.status, 202);
  const { plan } = await response.json();
  await waitFor('plan ready', async () => {
    const body = await (await system.request(`/api/plans/${plan.id}`, { auth })).json();
    return body.status === 'ready';
  });
  const message = await waitFor('message sent', () =>
    system.telegram.sentMessages.find((m) => m.chatId === '961001'),
  );
  t.regex(message.text, /Kim, your personal training plan is ready/);
});

test.serial('a broadcast reaches every client through the paced notifications queue', async (t) => {
  await seedUsers(
    system.em(),
    Array.from({ length: 12 }, (_, i) => 962000 + i),
    { isClient: true },
  );
  const response = await system.request('/api/panel/broadcasts', {
    method: 'POST',
    auth: owner,
    body: JSON.stringify({ text: 'Cluster says hi', segment: 'clients' }),
  });
  t.is(response.status, 202);
  const { id } = await response.json();
  const progress = await waitFor(
    'broadcast completed',
    async () => {
      const body = await (await system.request(`/api/panel/broadcasts/${id}`, { auth: owner })).json();
      return body.status === 'completed' ? body : null;
    },
    20_000,
  );
  t.like(progress, { total: 12, sent: 12, failed: 0, pending: 0 });
  t.is(system.telegram.sentMessages.filter((m) => m.text === 'Cluster says hi').length, 12);
});

test.serial('every limiter, pacer, guard and cache script runs on the cluster', async (t) => {
  const redis = createRedisConnection(system.config.redis.cluster!, 'producer', 'cluster-test');
  t.teardown(() => closeRedis(redis));
  await waitFor('producer ready', () => redis.status === 'ready');
  const prefix = system.config.redis.queuePrefix;

  // The pacer's scripts read a bot's keys and one chat's together (CROSSSLOT without the tag).
  const pacer = createSendPacer({
    redis,
    keyPrefix: prefix,
    botId: '4242',
    messagesPerSecond: 30,
    requestTimeoutMs: 1000,
  });
  t.like(await pacer.reserve('77'), { kind: 'send' });
  t.is(await pacer.around('77', async () => 'sent'), 'sent');
  await pacer.pauseAll(10);

  const ai = createAiCallLimiter({ redis, keyPrefix: prefix, maxCalls: 5, windowMs: 1000 });
  t.is(await ai.run(async () => 'called'), 'called');
  const tenant = (await system.tenantDirectory.byId(DEFAULT_TENANT_ID))!;
  const budget = createTenantAiBudget({ redis, keyPrefix: prefix, registry: createMetrics().registry });
  t.deepEqual(await budget.admitPlan(tenant, 'plan-1'), { ok: true });

  const limiter = createSharedRateLimiter({
    redis,
    keyPrefix: `${prefix}:test`,
    points: 1,
    durationSeconds: 60,
  });
  t.deepEqual(await limiter.consume('a'), { allowed: true });
  t.false((await limiter.consume('a')).allowed);

  await claimLoginOnce(redis, prefix, { hash: 'h1', authDate: new Date() }, 60);
  await t.throwsAsync(claimLoginOnce(redis, prefix, { hash: 'h1', authDate: new Date() }, 60));

  // Live updates: classic pub/sub is cluster-wide, so a pattern subscription on one node hears
  // a PUBLISH sent to any other.
  const subscriber = createRedisConnection(system.config.redis.cluster!, 'worker', 'cluster-test-sub');
  t.teardown(() => closeRedis(subscriber));
  const heard: string[] = [];
  subscriber.on('pmessage', (_pattern, channel) => heard.push(channel));
  await subscriber.psubscribe(`${liveEventsChannel(prefix, '')}*`);
  const live = createLiveEventPublisher(redis, prefix);
  await waitFor('a live event through the cluster', () => {
    live.publish(DEFAULT_TENANT_ID, { type: 'client.added', userId: 'u', telegramId: '1' });
    return heard.includes(liveEventsChannel(prefix, DEFAULT_TENANT_ID));
  });

  const snapshot = { computedAt: new Date().toISOString(), metrics: {} as never };
  t.true(await writeMetricsCache(redis, prefix, DEFAULT_TENANT_ID, snapshot));
  t.is((await readMetricsCache(redis, prefix, DEFAULT_TENANT_ID))?.computedAt, snapshot.computedAt);
});

test.serial('key layout: queues under a hash tag each, everything else under QUEUE_PREFIX', async (t) => {
  const prefix = system.config.redis.queuePrefix;
  const keys: string[] = [];
  for (const port of cluster.ports) {
    const node = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    keys.push(...(await node.keys('*')));
    node.disconnect();
  }
  const queueTags = QUEUE_NAMES.map((name) => queuePrefixOf(system.config.redis, name));
  t.deepEqual(
    queueTags,
    QUEUE_NAMES.map((name) => `{${prefix}:${name}}`),
  );
  const stray = keys.filter(
    (key) => !key.startsWith(`${prefix}:`) && !queueTags.some((tag) => key.startsWith(`${tag}:`)),
  );
  t.deepEqual(stray, []);
  t.true(keys.some((key) => key.startsWith(`{${prefix}:notifications}:notifications:`)));
});

test.serial(
  'a master dies: /readyz 503 names Redis, the API still answers; it heals when the shard returns',
  async (t) => {
    const prefix = queuePrefixOf(system.config.redis, 'plans');
    const port = await cluster.portOf(`${prefix}:plans:meta`);
    cluster.kill(port);
    killed = port;

    const ready = await waitFor('readyz reports Redis down', async () => {
      const response = await system.request('/readyz');
      return response.status === 503 ? response.json() : null;
    });
    t.deepEqual(ready.checks, { postgres: 'ok', redis: 'down' });

    // Enqueueing goes through the outbox: accepted at once, the job waits for Redis in PostgreSQL.
    const started = Date.now();
    const auth = authHeader({ id: 963001 });
    const response = await system.request('/api/surveys', {
      method: 'POST',
      auth,
      body: JSON.stringify({ answers: validAnswers }),
    });
    t.is(response.status, 202);
    t.true(Date.now() - started < 5_000, 'the API does not hang on a lost shard');
    const { plan } = await response.json();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const outbox = await system.em().findOneOrFail(Outbox, {
      jobId: jobIdOf('plans.generate', { tenantId: DEFAULT_TENANT_ID, planId: plan.id }),
    });
    t.is(outbox.publishedAt, null);
    t.is((await system.em().findOneOrFail(PersonalPlan, { id: plan.id })).status, 'queued');
    await waitFor('the relay logs that it cannot publish', () =>
      system.logs.some((line) => /outbox_relay_failed|outbox_row_failed/.test(line)),
    );

    // A request that needs Redis itself (the panel login's replay guard) fails fast with a 503 once
    // the surviving masters have marked the cluster down (cluster-node-timeout; until then keys on
    // the other shards still work, and /readyz already says down because a master is missing).
    const survivor = cluster.ports.find((other) => other !== port)!;
    await waitFor(
      'the survivors declare the cluster down',
      async () => (await cluster.state(survivor)) === 'fail',
    );
    const loginStarted = Date.now();
    const login = await system.request('/api/panel/session', {
      method: 'POST',
      headers: { 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify(loginWidgetFor(OWNER)),
    });
    t.is(login.status, 503);
    t.is((await login.json()).error.code, 'service_unavailable');
    t.true(Date.now() - loginStarted < 10_000);

    // A shared rate limit falls back to this instance's memory instead of failing the request.
    const producer = createRedisConnection(system.config.redis.cluster!, 'producer', 'cluster-test-outage');
    t.teardown(() => closeRedis(producer));
    const limiter = createSharedRateLimiter({
      redis: producer,
      keyPrefix: `${system.config.redis.queuePrefix}:outage`,
      points: 5,
      durationSeconds: 60,
    });
    const limitStarted = Date.now();
    t.deepEqual(await limiter.consume('someone'), { allowed: true });
    t.true(Date.now() - limitStarted < 2_000);

    t.is((await system.request('/healthz')).status, 200);
    t.is((await system.request('/readyz')).status, 503);

    // The shard comes back (empty: its queue keys are gone): the processes heal on their own, and
    // the survey accepted meanwhile still gets its plan from the outbox.
    await cluster.restart(port);
    killed = undefined;
    await waitFor('ready again', async () => (await system.request('/readyz')).status === 200, 20_000);
    await waitFor(
      'the plan accepted during the outage is ready',
      async () => (await system.em().findOne(PersonalPlan, { id: plan.id }))?.status === 'ready',
      25_000,
    );
    await waitFor(
      'its message sent',
      () => system.telegram.sentMessages.some((m) => m.chatId === '963001'),
      15_000,
    );
  },
);
