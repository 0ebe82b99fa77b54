import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Notification, PersonalPlan } from '../src/db/entities/index.ts';
import { spawnWorker } from './helpers/child-worker.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

test('a worker killed with SIGKILL mid-job: the plan completes once, with one message', async (t) => {
  const system = await startTestSystem({
    openai: true,
    worker: false,
    env: { WORKER_LOCK_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000', AI_TIMEOUT_MS: '10000' },
  });
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of children) child.kill('SIGKILL');
    await system.stop();
  });
  // The first AI call hangs long enough for us to kill the worker in the middle of it.
  system.openai!.enqueue({ kind: 'slow', delayMs: 8_000 });

  const first = spawnWorker(system.childEnv);
  children.push(first);
  const { plan } = await system.submitSurvey(9001);

  await waitFor(
    'first worker is generating',
    async () => {
      const row = await system.em().findOne(PersonalPlan, { id: plan.id });
      return row?.status === 'generating' && system.openai!.requests.length === 1;
    },
    30_000,
  );
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));

  const second = spawnWorker(system.childEnv);
  children.push(second);
  const ready = await waitFor(
    'plan ready on the second worker',
    async () => {
      const row = await system.em().findOne(PersonalPlan, { id: plan.id });
      return row?.status === 'ready' ? row : null;
    },
    40_000,
  );
  t.is(ready.attempts, 2);
  await waitFor('message sent', () => system.telegram.sentMessages.some((m) => m.chatId === '9001'));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.is(system.telegram.sentMessages.filter((m) => m.chatId === '9001').length, 1);
  t.is(await system.em().count(PersonalPlan, { surveyId: ready.surveyId }), 1);
  t.is(await system.em().count(Notification, { dedupeKey: `plan_ready:${plan.id}` }), 1);
  t.is(system.openai!.requests.length, 2);
});
