import test from 'ava';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Notification, PersonalPlan } from '../src/db/entities/index.ts';
import type { FakeOpenAiBehaviour } from './fakes/fake-openai-server.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// PLAN_ATTEMPTS=3 (see startTestSystem); a 3 s AI timeout and short backoff keep the file quick.
let system: TestSystem;
let nextUserId = 7000;
test.before(async () => {
  system = await startTestSystem({
    openai: true,
    env: { JOB_BACKOFF_BASE_MS: '100', PLANS_PER_USER_PER_DAY: '50', AI_TIMEOUT_MS: '3000' },
  });
});
test.after.always(async () => {
  await system?.stop();
});

/** Scripts the fake's next replies, submits a survey and waits for the plan to settle. */
async function runPlan(behaviours: FakeOpenAiBehaviour[]) {
  const openai = system.openai!;
  openai.enqueue(...behaviours);
  const callsBefore = openai.requests.length;
  const userId = nextUserId++;
  const auth = authHeader({ id: userId });
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth,
    body: JSON.stringify({ answers: validAnswers }),
  });
  const { plan } = await response.json();
  const settled = await waitFor(
    'plan settled',
    async () => {
      const view = await (await system.request(`/api/plans/${plan.id}`, { auth })).json();
      return view.status === 'ready' || view.status === 'failed' ? view : null;
    },
    30_000,
  );
  // Let any (wrongly) scheduled retry run before counting calls.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { plan: settled, aiCalls: openai.requests.length - callsBefore, userId: String(userId) };
}

async function messagesTo(chatId: string) {
  return system.telegram.sentMessages.filter((m) => m.chatId === chatId).length;
}

test.serial('a good reply → ready after exactly one AI call, one message', async (t) => {
  const { plan, aiCalls, userId } = await runPlan([{ kind: 'ok' }]);
  t.is(plan.status, 'ready');
  t.is(typeof plan.content.summary, 'string');
  t.true(plan.content.weeks.length > 0);
  t.is(aiCalls, 1);
  await waitFor('message', () => messagesTo(userId));
  t.is(await messagesTo(userId), 1);
  const request = system.openai!.requests.at(-1)!;
  t.is((request.body as { response_format: { type: string } }).response_format.type, 'json_schema');
});

test.serial('429 with retry-after → waits, then ready; two calls', async (t) => {
  const { plan, aiCalls } = await runPlan([{ kind: 'rate_limited', retryAfterSeconds: 1 }, { kind: 'ok' }]);
  t.is(plan.status, 'ready');
  t.is(aiCalls, 2);
});

test.serial('500 then ok → ready; two calls', async (t) => {
  const { plan, aiCalls } = await runPlan([{ kind: 'server_error' }, { kind: 'ok' }]);
  t.is(plan.status, 'ready');
  t.is(aiCalls, 2);
});

test.serial('a slow reply past the timeout is abandoned and retried', async (t) => {
  const { plan, aiCalls } = await runPlan([{ kind: 'slow', delayMs: 10_000 }, { kind: 'ok' }]);
  t.is(plan.status, 'ready');
  t.is(aiCalls, 2);
});

test.serial('malformed JSON, a wrong shape and a garbage body are retried', async (t) => {
  const { plan, aiCalls } = await runPlan([
    { kind: 'malformed_json' },
    { kind: 'schema_mismatch' },
    { kind: 'ok' },
  ]);
  t.is(plan.status, 'ready');
  t.is(aiCalls, 3);
});

test.serial(
  'failing on every attempt → failed with a readable reason; calls = attempts; one message saying so',
  async (t) => {
    const { plan, aiCalls, userId } = await runPlan([
      { kind: 'server_error' },
      { kind: 'garbage_body' },
      { kind: 'server_error', status: 503 },
    ]);
    t.is(plan.status, 'failed');
    t.is(aiCalls, 3);
    t.regex(plan.error, /unavailable right now/);
    t.false('content' in plan);
    // The client hears why and how to try again, once, in the same words as the plan's error.
    await waitFor('failure message', () => messagesTo(userId));
    const sent = system.telegram.sentMessages.filter((m) => m.chatId === userId);
    t.is(sent.length, 1);
    t.is(sent[0]!.text, plan.error);
    t.regex(sent[0]!.text, /send the survey again/);
  },
);

test.serial('what retrying cannot fix (401) fails at once after one call', async (t) => {
  const { plan, aiCalls } = await runPlan([{ kind: 'unauthorized' }]);
  t.is(plan.status, 'failed');
  t.is(aiCalls, 1);
  // Our key was refused: nothing the client could fix, so they are told to try again later.
  t.regex(plan.error, /unavailable right now/);
  t.false(system.logs.join('\n').includes('sk-test-secret-key'), 'API key never logged');
});

test.serial('running the plan job twice yields one plan and one message', async (t) => {
  const { plan, userId } = await runPlan([{ kind: 'ok' }]);
  await waitFor('message', () => messagesTo(userId));
  const row = await system.em().findOneOrFail(PersonalPlan, { id: plan.id });
  // The same job delivered again (a redelivery, a duplicate add under another id): the worker runs it.
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('plans', { connection, prefix: system.config.redis.queuePrefix });
  t.teardown(async () => {
    await queue.close();
    connection.disconnect();
  });
  const callsBefore = system.openai!.requests.length;
  const again = await queue.add(
    'plans.generate',
    { tenantId: row.tenantId, planId: plan.id },
    { jobId: `again-${plan.id}` },
  );
  await waitFor('the second run', async () => (await again.getState()) === 'completed');
  t.is(system.openai!.requests.length, callsBefore, 'a ready plan is not generated again');
  const after = await system.em().findOneOrFail(PersonalPlan, { id: plan.id });
  t.deepEqual(after.content, row.content);
  t.is(await system.em().count(Notification, { dedupeKey: `plan_ready:${plan.id}` }), 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(await messagesTo(userId), 1);
});
