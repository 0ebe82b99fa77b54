import test from 'ava';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { PersonalPlan } from '../src/db/entities/index.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTcpProxy, viaProxy } from './helpers/tcp-proxy.ts';
import { TEST_REDIS_URL, TEST_SERVER_URL } from './helpers/test-database.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/** The requirement: with PostgreSQL cut for 20 s under 20 surveys/s, every accepted plan is ready within 60 s of the restore. */
const SURVEYS_PER_SECOND = 20;
const OUTAGE_MS = 20_000;
const READY_WITHIN_MS = 60_000;
const USERS = 10;
/** Load before the cut and after the restore, so surveys keep arriving across both edges. */
const BEFORE_MS = 3_000;
const AFTER_MS = 5_000;
/** "Never hung": a loaded 2-core machine gets slack, but an answer must not wait on PostgreSQL. */
const OUTAGE_ANSWER_MAX_MS = 10_000;
const REQUEST_TIMEOUT_MS = 20_000;

interface Answer {
  sentAt: number;
  ms: number;
  status: number | 'timeout' | 'network_error';
  contentType: string | null;
  retryAfter: string | null;
  body: { plan?: { id?: string }; error?: { code?: string } } | null;
}

test('PostgreSQL cut for 20 s under 20 surveys/s: every accepted plan is ready within 60 s of the restore', async (t) => {
  const server = new URL(TEST_SERVER_URL);
  const proxy = await startTcpProxy(Number(server.port || 5432), server.hostname);
  // Teardowns run last-registered first: the load stops and the system stops before this.
  t.teardown(() => proxy.close().catch(() => {}));
  const system = await startTestSystem({
    env: {
      PLANS_PER_USER_PER_DAY: '1000',
      // Few attempts, so an outage that spent them would leave plans failed (or stuck generating).
      PLAN_ATTEMPTS: '3',
      // The reconciler must not be what rescues a plan: STALE_WORK_MS pinned at its 15-minute default.
      STALE_WORK_MS: String(15 * 60_000),
    },
    systemDatabaseUrl: viaProxy(proxy),
  });
  // Restored first, so the system's own shutdown (pool end, relays) is not waiting on the cut.
  t.teardown(async () => {
    await proxy.restore().catch(() => {});
    await system.stop();
  });
  // The test's own view of the plans queue (same Redis and prefix as the system's worker).
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const plansQueue = new Queue('plans', { connection: redis, prefix: system.config.redis.queuePrefix });
  let loadRunning = false;
  let load: Promise<void> | undefined;
  t.teardown(async () => {
    loadRunning = false;
    await load?.catch(() => {});
    await plansQueue.close().catch(() => {});
    redis.disconnect();
  });

  const users = Array.from({ length: USERS }, (_, index) => authHeader({ id: 8_300 + index }));
  for (const auth of users) t.is((await system.request('/api/me', { auth })).status, 200);

  const answers: Promise<Answer>[] = [];
  async function submit(auth: string): Promise<Answer> {
    const sentAt = Date.now();
    try {
      const response = await system.request('/api/surveys', {
        method: 'POST',
        auth,
        body: JSON.stringify({ answers: validAnswers }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const contentType = response.headers.get('content-type');
      const text = await response.text();
      let body: Answer['body'] = null;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: asserted below.
      }
      return {
        sentAt,
        ms: Date.now() - sentAt,
        status: response.status,
        contentType,
        retryAfter: response.headers.get('retry-after'),
        body,
      };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return {
        sentAt,
        ms: Date.now() - sentAt,
        status: timedOut ? 'timeout' : 'network_error',
        contentType: null,
        retryAfter: null,
        body: null,
      };
    }
  }

  // A steady 20 surveys/s on an absolute schedule (no drift when the event loop is busy),
  // round-robin over the users, each request on its own.
  const loadStart = Date.now();
  loadRunning = true;
  load = (async () => {
    const every = 1_000 / SURVEYS_PER_SECOND;
    for (let index = 0; loadRunning; index++) {
      const due = loadStart + index * every;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!loadRunning) break;
      answers.push(submit(users[index % USERS]!));
    }
  })();

  await sleep(BEFORE_MS - 1_500);
  // Hold the queue for the last 1.5 s before the cut and cut as the worker starts on that backlog,
  // so some jobs are mid-flight when the connections drop and the rest meet the outage when they
  // start: with a real AI provider (seconds per plan) that is every moment under load, but the
  // offline generator drains the queue too fast for a job to meet the outage by chance.
  await plansQueue.pause();
  await sleep(1_500);
  await plansQueue.resume();
  const resumedAt = Date.now();
  let activeAtCut = 0;
  while (activeAtCut === 0 && Date.now() - resumedAt < 2_000) {
    activeAtCut = await plansQueue.getActiveCount();
    if (activeAtCut === 0) await sleep(5);
  }
  const cutAt = Date.now();
  await proxy.cut();
  const cutDone = Date.now();
  await sleep(OUTAGE_MS - (Date.now() - cutAt));
  const restoreCalled = Date.now();
  await proxy.restore();
  const restoredAt = Date.now();
  await sleep(AFTER_MS);
  loadRunning = false;
  await load;
  const results = await Promise.all(answers);

  const accepted = results.filter((answer) => answer.status === 202);
  const unavailable = results.filter((answer) => answer.status === 503);
  // A request already on a pooled connection as the cut lands may still commit: judge from 1 s in.
  const duringOutage = results.filter(
    (answer) => answer.sentAt >= cutDone + 1_000 && answer.sentAt < restoreCalled,
  );
  const acceptedIds = accepted.map((answer) => answer.body?.plan?.id);
  t.true(
    acceptedIds.every((id) => typeof id === 'string'),
    'every 202 names its plan',
  );

  // The API's side of the outage: every answer a 202 or a JSON 503, promptly, never a 500.
  const unexpected = results.filter((answer) => answer.status !== 202 && answer.status !== 503);
  t.deepEqual(
    unexpected.map(({ status, ms, body }) => ({ status, ms, body })),
    [],
    'every request was answered 202 or 503',
  );
  for (const answer of unavailable) {
    t.regex(answer.contentType ?? '', /application\/json/);
    t.is(answer.body?.error?.code, 'service_unavailable');
    t.truthy(answer.retryAfter, 'a 503 says when to retry');
  }
  t.true(duringOutage.length >= SURVEYS_PER_SECOND * 9, `surveys kept arriving (${duringOutage.length})`);
  // One sent just before the restore may be handled after it (client and server share this
  // process's event loop, which a loaded machine delays): it met a working database. Every answer
  // given while PostgreSQL was still cut is a 503, and none is slow (below).
  t.deepEqual(
    duringOutage
      .filter((answer) => answer.sentAt + answer.ms < restoreCalled && answer.status !== 503)
      .map(({ status, ms }) => ({ status, ms })),
    [],
    'every request answered while PostgreSQL was cut was answered 503',
  );
  const slowest = Math.max(...duringOutage.map((answer) => answer.ms));
  t.true(slowest < OUTAGE_ANSWER_MAX_MS, `outage answers took at most ${slowest} ms`);
  t.true(accepted.length > 0, 'surveys were accepted before and after the outage');

  // Every accepted plan becomes ready within 60 s of the restore, without the reconciler.
  const deadline = restoredAt + READY_WITHIN_MS;
  let counts: Record<string, number> = {};
  for (;;) {
    const rows = await system
      .em()
      .find(PersonalPlan, { id: { $in: acceptedIds as string[] } }, { fields: ['id', 'status'] });
    counts = {};
    for (const row of rows) counts[row.status] = (counts[row.status] ?? 0) + 1;
    counts.missing = acceptedIds.length - rows.length;
    if (counts.ready === acceptedIds.length || counts.failed || Date.now() > deadline) break;
    // A job BullMQ gave up on will not make its plan ready: fail now rather than at the deadline.
    if ((await plansQueue.getFailedCount()) > 0) break;
    await sleep(250);
  }
  t.deepEqual(counts, { ready: accepted.length, missing: 0 }, 'every accepted plan is ready');

  // Plans whose commit reached PostgreSQL but whose answer was a 503 (the cut came between the
  // two) are not "accepted", but must not be left half-done either.
  const allPlans = await system
    .em()
    .find(PersonalPlan, {}, { fields: ['id', 'status', 'readyAt', 'attempts', 'createdAt'] });
  const unfinished = allPlans.filter((plan) => plan.status !== 'ready');
  t.deepEqual(
    unfinished.map(({ id, status }) => ({ id, status })),
    [],
    'no plan is failed, generating or queued',
  );
  const acceptedSet = new Set(acceptedIds);
  const lastReadyAt = Math.max(
    ...allPlans.filter((plan) => acceptedSet.has(plan.id)).map((plan) => plan.readyAt?.getTime() ?? 0),
  );
  const lastReadySeconds = (lastReadyAt - restoredAt) / 1000;
  // The plans the outage held back (accepted before the restore), apart from those submitted after.
  const backlogReadySeconds =
    (Math.max(
      ...allPlans
        .filter((plan) => acceptedSet.has(plan.id) && plan.createdAt.getTime() < restoreCalled)
        .map((plan) => plan.readyAt?.getTime() ?? 0),
    ) -
      restoredAt) /
    1000;
  t.true(
    lastReadySeconds <= READY_WITHIN_MS / 1000,
    `last plan ready ${lastReadySeconds} s after the restore`,
  );

  // The outage spent no attempt: the jobs that met it waited instead. BullMQ counts the run that
  // completes a job as an attempt too, so a job that spent none completed with attemptsMade 1.
  const jobs = (await Promise.all(allPlans.map((plan) => plansQueue.getJob(`plan-${plan.id}`)))).filter(
    (job): job is Job => job !== undefined,
  );
  const states = await Promise.all(jobs.map((job) => job.getState()));
  const waitedOut = jobs.filter((job) => job.data.dependencyOutageSince !== undefined);
  const spent = jobs
    .map((job, index) => ({ job, state: states[index] }))
    .filter(
      ({ job, state }) =>
        state !== 'completed' || job.attemptsMade !== 1 || (job.stacktrace ?? []).length > 0,
    );
  t.is(jobs.length, allPlans.length, 'every plan has its job');
  t.true(waitedOut.length > 0, 'some jobs met the outage (the test exercised the worker path)');
  t.deepEqual(
    spent.map(({ job, state }) => ({
      id: job.id,
      state,
      attemptsMade: job.attemptsMade,
      errors: (job.stacktrace ?? []).map((line) => line.split('\n')[0]),
    })),
    [],
    'no job spent an attempt on the outage',
  );

  // No pool slot was lost to a connection that died while checked out (release-dead-clients):
  // web, relays and the plans worker share this pool here, as in `npm start`.
  const pool = (await system.orm.em.getConnection().getNativeClient()) as unknown as Pool;
  await waitFor('every pool client idle again', () => pool.totalCount === pool.idleCount, 10_000, 5);
  t.is(pool.waitingCount, 0);

  const figures = {
    requests: results.length,
    accepted: accepted.length,
    unavailable503: unavailable.length,
    sentDuringOutage: duringOutage.length,
    slowestOutageAnswerMs: slowest,
    plansInDatabase: allPlans.length,
    jobsThatWaitedOutTheOutage: waitedOut.length,
    outageDeferrals: jobs.reduce((sum, job) => sum + Math.max(0, job.attemptsStarted - job.attemptsMade), 0),
    maxPlanAttemptsColumn: Math.max(...allPlans.map((plan) => plan.attempts)),
    secondsFromRestoreToLastReady: lastReadySeconds,
    secondsFromRestoreToLastPreRestorePlanReady: backlogReadySeconds,
    jobsActiveAtCut: activeAtCut,
    loadSeconds: (Date.now() - loadStart) / 1000,
  };
  t.log(JSON.stringify(figures));
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
