import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Queue } from 'bullmq';
import { Outbox, PersonalPlan } from '../src/db/entities/index.ts';
import { spawnWorker, stopWorker } from './helpers/child-worker.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
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
  const auth = authHeader({ id: 8201 });
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth,
    body: JSON.stringify({ answers: validAnswers }),
  });
  const { plan } = await response.json();
  await waitFor(
    'published to Redis',
    async () => (await system.em().findOne(Outbox, { jobId: `plan-${plan.id}` }))?.publishedAt,
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
