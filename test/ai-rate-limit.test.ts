import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Queue } from 'bullmq';
import { PersonalPlan } from '../src/db/entities/index.ts';
import type { FakeOpenAiRequest } from './fakes/fake-openai-server.ts';
import { spawnWorker, stopWorker } from './helpers/child-worker.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * AI_REQUESTS_PER_MINUTE binds AI calls, across worker processes, and nothing else: three worker
 * processes against the fake OpenAI at 4 calls per minute, 10 surveys from 5 clients. Watched for
 * 15 s after the first AI call (the window is 60 s, so any fifth call in that time would break it).
 */
const RATE = 4;
const PLANS = 10;
const WATCH_MS = 15_000;

let system: TestSystem;
let queue: Queue;
const workers: ChildProcess[] = [];
/** When each chat completion request reached the fake, in order. */
const arrivals: number[] = [];
const planIds: string[] = [];
let plans: PersonalPlan[] = [];
/** The BullMQ jobs of the plans that are not ready, when the watch ended. */
let waitingJobs: { id: string; state: string; attemptsMade: number; attempts: number }[] = [];

async function submitSurvey(userId: number): Promise<string> {
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth: authHeader({ id: userId }),
    body: JSON.stringify({ answers: validAnswers }),
  });
  if (!response.ok) {
    throw new Error(`survey refused: ${response.status} ${await response.text()}`);
  }
  const { plan } = (await response.json()) as { plan: { id: string } };
  return plan.id;
}

test.before(async () => {
  system = await startTestSystem({
    openai: true,
    worker: false,
    env: { AI_REQUESTS_PER_MINUTE: String(RATE), PLANS_PER_USER_PER_DAY: '50' },
  });
  const requests = system.openai!.requests;
  const record = requests.push.bind(requests);
  requests.push = (...items: FakeOpenAiRequest[]) => {
    for (const _ of items) arrivals.push(Date.now());
    return record(...items);
  };
  queue = new Queue('plans', {
    connection: { url: TEST_REDIS_URL },
    prefix: system.config.redis.queuePrefix,
  });
  for (let i = 0; i < 3; i++) workers.push(spawnWorker(system.childEnv));
  await waitFor('three plan workers', async () => (await queue.getWorkersCount()) >= 3, 30_000, 200);

  // Every worker is fetching: ten surveys at once, two from each of five clients.
  const submitted = await Promise.all(Array.from({ length: PLANS }, (_, i) => submitSurvey(9100 + (i % 5))));
  planIds.push(...submitted);
  await waitFor('the first AI call', () => arrivals.length > 0, 20_000);
  await new Promise((resolve) => setTimeout(resolve, arrivals[0]! + WATCH_MS - Date.now()));

  plans = await system.em().find(PersonalPlan, { id: { $in: planIds } });
  const waiting = plans.filter((plan) => plan.status !== 'ready').map((plan) => plan.id);
  const all = await queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed']);
  const mine = all.filter((job) => waiting.includes((job.data as { planId?: string }).planId ?? ''));
  waitingJobs = await Promise.all(
    mine.map(async (job) => ({
      id: job.id ?? '',
      state: await job.getState(),
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
    })),
  );
});

test.after.always(async () => {
  await Promise.all(workers.map((worker) => stopWorker(worker)));
  await queue?.close();
  await system?.stop();
});

/** The most arrivals any half-open window [t, t + windowMs) contains, t being any arrival. */
function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j]! < times[i]! + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

test.serial('three workers share one budget: exactly 4 AI calls, never more than 4 in 60 s', (t) => {
  const seen = arrivals.filter((at) => at <= arrivals[0]! + WATCH_MS);
  t.is(seen.length, RATE, `AI calls at +${seen.map((at) => at - seen[0]!).join(', +')} ms`);
  t.true(busiestWindow(arrivals, 60_000) <= RATE);
});

test.serial('plans beyond the budget wait: none failed, the rest queued or generating, jobs pending', (t) => {
  t.is(plans.length, PLANS);
  const byStatus = (status: string) => plans.filter((plan) => plan.status === status).length;
  t.is(byStatus('ready'), RATE);
  t.is(byStatus('failed'), 0);
  t.is(byStatus('queued') + byStatus('generating'), PLANS - RATE);
  t.is(waitingJobs.length, PLANS - RATE);
  for (const job of waitingJobs) {
    t.true(
      ['delayed', 'waiting', 'prioritized', 'active'].includes(job.state),
      `job ${job.id}: ${job.state}`,
    );
    t.true(job.attemptsMade < job.attempts, `job ${job.id} has attempts left`);
  }
});

// Waiting for our own budget is not a failed attempt: the job is delayed (ctx.delay), no attempt spent.
test.serial('waiting for the budget spends no attempt', (t) => {
  t.is(waitingJobs.length, PLANS - RATE);
  for (const job of waitingJobs) t.is(job.attemptsMade, 0, `job ${job.id}`);
});

test('offline plans are not limited by AI_REQUESTS_PER_MINUTE', async (t) => {
  const offline = await startTestSystem({
    env: { AI_PROVIDER: 'offline', AI_REQUESTS_PER_MINUTE: '1', PLANS_PER_USER_PER_DAY: '50' },
  });
  t.teardown(() => offline.stop());
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const response = await offline.request('/api/surveys', {
      method: 'POST',
      auth: authHeader({ id: 9200 + (i % 4) }),
      body: JSON.stringify({ answers: validAnswers }),
    });
    ids.push(((await response.json()) as { plan: { id: string } }).plan.id);
  }
  // At 1 per minute the queue limiter this replaces would have taken 7 minutes.
  const ready = await waitFor(
    'eight offline plans ready',
    async () => {
      const rows = await offline.em().find(PersonalPlan, { id: { $in: ids }, status: 'ready' });
      return rows.length === ids.length ? rows : null;
    },
    20_000,
  );
  t.true(ready.every((plan) => plan.provider === 'offline'));
});
