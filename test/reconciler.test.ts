import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createPlanProvider } from '../src/ai/create-plan-provider.ts';
import { createLogger } from '../src/config/logger.ts';
import { Outbox, PersonalPlan } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { planFailedMessage } from '../src/domain/notification-texts.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { createWorkerProcess } from '../workers/worker-process.ts';
import { spawnWorker, stopWorker } from './helpers/child-worker.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

test('a job lost from Redis after it was published is enqueued again and completes', async (t) => {
  const system = await startTestSystem({
    worker: false,
    env: { STALE_WORK_MS: '500', RECONCILE_INTERVAL_MS: '300' },
  });
  let worker: ChildProcess | undefined;
  t.teardown(async () => {
    if (worker) await stopWorker(worker);
    await system.stop();
  });
  const { plan } = await system.submitSurvey(8201);
  await waitFor(
    'published to Redis',
    async () =>
      (
        await system.em().findOne(Outbox, {
          jobId: jobIdOf('plans.generate', { tenantId: DEFAULT_TENANT_ID, planId: plan.id }),
        })
      )?.publishedAt,
  );

  // Redis loses its data (a restart without persistence, a flush): the job is gone, the outbox row is done.
  const queue = new Queue('plans', {
    connection: { url: TEST_REDIS_URL },
    prefix: system.childEnv.QUEUE_PREFIX!,
  });
  t.truthy(await queue.getJob(`plan-${plan.id}`));
  await queue.obliterate({ force: true });
  await queue.close();

  worker = spawnWorker(system.childEnv);
  const ready = await waitFor(
    'plan ready through the reconciler',
    async () => {
      const row = await system.em().findOne(PersonalPlan, { id: plan.id });
      return row?.status === 'ready' ? row : null;
    },
    30_000,
    200,
  );
  t.is(ready.attempts, 1);
  await waitFor('message sent', () => system.telegram.sentMessages.some((m) => m.chatId === '8201'));
  t.is(system.telegram.sentMessages.filter((m) => m.chatId === '8201').length, 1);
});

test('a plan the reconciler fails ends exactly like one its job failed: message, metric, live event', async (t) => {
  const system = await startTestSystem({
    worker: false,
    env: { STALE_WORK_MS: '200', RECONCILE_INTERVAL_MS: '3600000', PLAN_ATTEMPTS: '1' },
  });
  const prefix = system.config.redis.queuePrefix;
  const subscriber = new Redis(TEST_REDIS_URL);
  const events: { type: string; status?: string; planId?: string }[] = [];
  t.teardown(async () => {
    subscriber.disconnect();
    await system.stop();
  });
  await subscriber.psubscribe(`${prefix}:live:*`);
  subscriber.on('pmessage', (_pattern, _channel, message) => events.push(JSON.parse(message)));

  const { plan } = await system.submitSurvey(8202, { language_code: 'ru' });
  const jobId = jobIdOf('plans.generate', { tenantId: DEFAULT_TENANT_ID, planId: plan.id });
  await waitFor('published', async () => (await system.em().findOne(Outbox, { jobId }))?.publishedAt);

  // A worker that gave up on the job without its final-failure hook (it died, the database was down).
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const rogue = new Worker(
    'plans',
    async () => {
      throw new UnrecoverableError('worker died mid-job');
    },
    { connection, prefix },
  );
  const queue = new Queue('plans', { connection: { url: TEST_REDIS_URL }, prefix });
  await waitFor('job failed', async () => (await (await queue.getJob(jobId))?.getState()) === 'failed');
  await rogue.close();
  await queue.close();
  connection.disconnect();
  t.is((await system.em().findOneOrFail(PersonalPlan, { id: plan.id })).status, 'queued');

  const failedBefore =
    (await system.metrics.plans.get()).values.find((v) => v.labels.status === 'failed')?.value ?? 0;
  const worker = createWorkerProcess({
    config: system.config,
    orm: system.orm,
    logger: createLogger('silent'),
    metrics: system.metrics,
    serveMetrics: false,
    redisTarget: TEST_REDIS_URL,
    planProvider: createPlanProvider(system.config.ai),
  });
  await worker.start();
  t.teardown(() => worker.stop());
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is((await worker.reconciler.reconcileOnce()).failed, 1);

  const failed = await system.em().findOneOrFail(PersonalPlan, { id: plan.id });
  t.is(failed.status, 'failed');
  // The same words the job's own failure uses, in the client's language.
  t.is(failed.error, planFailedMessage('unavailable', 'ru', 'Test').text);
  const message = await waitFor('client told', () =>
    system.telegram.sentMessages.find((m) => m.chatId === '8202'),
  );
  t.is(message.text as string | null, failed.error ?? null);
  const failedAfter = (await system.metrics.plans.get()).values.find(
    (v) => v.labels.status === 'failed',
  )?.value;
  t.is(failedAfter, failedBefore + 1);
  await waitFor('live event', () =>
    events.some((e) => e.type === 'plan.status' && e.planId === plan.id && e.status === 'failed'),
  );
  // Running it again changes nothing: one failure, one message.
  await worker.reconciler.reconcileOnce();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(system.telegram.sentMessages.filter((m) => m.chatId === '8202').length, 1);
});
