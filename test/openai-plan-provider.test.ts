import { createServer } from 'node:net';
import anyTest, { type TestFn } from 'ava';
import { AiPermanentError, AiRateLimitedError, AiTransientError } from '../src/ai/ai-errors.ts';
import {
  createOpenAiPlanProvider,
  DEFAULT_RETRY_AFTER_MS,
  MAX_RETRY_AFTER_MS,
  retryAfterMsFromHeaders,
} from '../src/ai/openai-plan-provider.ts';
import { planContentSchema } from '../src/ai/plan-content.ts';
import type { PlanRequest } from '../src/ai/plan-provider.ts';
import { FAKE_PLAN, type FakeOpenAi, startFakeOpenAi } from './fakes/fake-openai-server.ts';

const API_KEY = 'sk-test-SECRET0123456789abcdef';
const MODEL = 'gpt-4o-mini';

const test = anyTest as TestFn<{ fake: FakeOpenAi }>;

// One fake per test, so tests in this file can run concurrently without sharing request counts.
test.beforeEach(async (t) => {
  t.context.fake = await startFakeOpenAi();
});
test.afterEach.always(async (t) => {
  await t.context.fake.close();
});

const request: PlanRequest = {
  answers: {
    goal: 'build_muscle',
    sex: 'female',
    age: 31,
    heightCm: 168,
    weightKg: 61,
    activityLevel: 'moderate',
    experience: 'beginner',
    daysPerWeek: 3,
    sessionMinutes: 45,
    equipment: ['dumbbells', 'bands'],
    injuries: 'old left knee sprain',
  },
  languageCode: 'ru',
  firstName: 'Anna',
};

function provider(fake: FakeOpenAi, timeoutMs = 5_000) {
  return createOpenAiPlanProvider({ apiKey: API_KEY, baseUrl: fake.baseUrl, model: MODEL, timeoutMs });
}

test('ok: returns a valid plan from exactly one request carrying model, schema and key', async (t) => {
  const { fake } = t.context;
  const plan = await provider(fake).generatePlan(request);

  t.true(planContentSchema.safeParse(plan).success);
  t.deepEqual(plan, FAKE_PLAN);
  t.is(fake.requests.length, 1);
  const sent = fake.requests[0]!;
  t.is(sent.path, '/v1/chat/completions');
  t.is(sent.headers.authorization, `Bearer ${API_KEY}`);
  const body = sent.body as {
    model: string;
    messages: { role: string; content: string }[];
    response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
  };
  t.is(body.model, MODEL);
  t.is(body.response_format.type, 'json_schema');
  t.is(body.response_format.json_schema.name, 'personal_plan');
  t.true(body.response_format.json_schema.strict);
  t.is(typeof body.response_format.json_schema.schema, 'object');
  t.deepEqual(
    body.messages.map((m) => m.role),
    ['system', 'user'],
  );
  const user = JSON.parse(body.messages[1]!.content) as {
    language: string;
    firstName: string;
    survey: unknown;
  };
  t.is(user.language, 'Russian (ru)');
  t.is(user.firstName, 'Anna');
  t.deepEqual(user.survey, request.answers);
});

test('ok: a baseURL without /v1 is answered too', async (t) => {
  const { fake } = t.context;
  const noV1 = createOpenAiPlanProvider({
    apiKey: API_KEY,
    baseUrl: fake.baseUrl.replace(/\/v1$/, ''),
    model: MODEL,
    timeoutMs: 5_000,
  });
  t.deepEqual(await noV1.generatePlan(request), FAKE_PLAN);
  t.is(fake.requests[0]!.path, '/chat/completions');
});

test('429: AiRateLimitedError with Retry-After in ms, and no SDK retry', async (t) => {
  const { fake } = t.context;
  fake.enqueue({ kind: 'rate_limited', retryAfterSeconds: 7 });
  const error = await t.throwsAsync(provider(fake).generatePlan(request), { instanceOf: AiRateLimitedError });
  t.is(error.retryAfterMs, 7_000);
  t.is(fake.requests.length, 1);
});

test('429: retry-after-ms wins, huge waits are capped, missing header falls back to the default', async (t) => {
  const { fake } = t.context;
  fake.enqueue(
    { kind: 'rate_limited', retryAfterSeconds: 7, retryAfterMs: 1_500 },
    { kind: 'rate_limited', retryAfterSeconds: 3_600 },
    { kind: 'rate_limited' },
  );
  const ai = provider(fake);
  const delays: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    const error = await t.throwsAsync(ai.generatePlan(request), { instanceOf: AiRateLimitedError });
    delays.push(error.retryAfterMs);
  }
  t.deepEqual(delays, [1_500, MAX_RETRY_AFTER_MS, DEFAULT_RETRY_AFTER_MS]);
  t.is(fake.requests.length, 3);
});

test('retryAfterMsFromHeaders reads HTTP dates and ignores junk', (t) => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  t.is(retryAfterMsFromHeaders(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now), 30_000);
  t.is(retryAfterMsFromHeaders(new Headers({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }), now), 0);
  t.is(retryAfterMsFromHeaders(new Headers({ 'retry-after': 'soon' }), now), DEFAULT_RETRY_AFTER_MS);
  t.is(retryAfterMsFromHeaders(new Headers({ 'retry-after': '1.5' }), now), 1_500);
  t.is(retryAfterMsFromHeaders(undefined, now), DEFAULT_RETRY_AFTER_MS);
});

test('429 insufficient_quota is permanent: waiting does not refill a quota', async (t) => {
  const { fake } = t.context;
  fake.enqueue({ kind: 'quota_exceeded' });
  const error = await t.throwsAsync(provider(fake).generatePlan(request), { instanceOf: AiPermanentError });
  t.regex(error.message, /quota/i);
  t.is(fake.requests.length, 1);
});

test('5xx is transient and not retried by the SDK', async (t) => {
  const { fake } = t.context;
  fake.enqueue({ kind: 'server_error' }, { kind: 'server_error', status: 503 });
  const ai = provider(fake);
  await t.throwsAsync(ai.generatePlan(request), { instanceOf: AiTransientError });
  t.is(fake.requests.length, 1);
  await t.throwsAsync(ai.generatePlan(request), { instanceOf: AiTransientError });
  t.is(fake.requests.length, 2);
});

test('a reply slower than timeoutMs is a transient timeout after one request', async (t) => {
  const { fake } = t.context;
  fake.enqueue({ kind: 'slow', delayMs: 10_000 });
  // Long enough for the request to reach the fake even on a loaded machine; far below the reply.
  const error = await t.throwsAsync(provider(fake, 1_500).generatePlan(request), {
    instanceOf: AiTransientError,
  });
  t.regex(error.message, /timed out/);
  t.is(fake.requests.length, 1, 'one request: the SDK does not retry on its own');
});

test('the caller aborting is transient (the job may run again)', async (t) => {
  const { fake } = t.context;
  fake.enqueue({ kind: 'slow', delayMs: 2_000 });
  const controller = new AbortController();
  const pending = provider(fake).generatePlan({ ...request, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await t.throwsAsync(pending, { instanceOf: AiTransientError, message: /aborted/ });
});

test('nothing listening is a transient connection error', async (t) => {
  const port = await freePort();
  const ai = createOpenAiPlanProvider({
    apiKey: API_KEY,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    model: MODEL,
    timeoutMs: 2_000,
  });
  await t.throwsAsync(ai.generatePlan(request), { instanceOf: AiTransientError, message: /connection/i });
});

for (const kind of ['malformed_json', 'schema_mismatch', 'garbage_body', 'truncated'] as const) {
  test(`${kind} reply is transient: a new sample may succeed`, async (t) => {
    const { fake } = t.context;
    fake.enqueue({ kind });
    await t.throwsAsync(provider(fake).generatePlan(request), { instanceOf: AiTransientError });
    t.is(fake.requests.length, 1);
  });
}

test('401 is permanent and the message never contains the key', async (t) => {
  const { fake } = t.context;
  fake.enqueue({ kind: 'unauthorized' });
  const error = await t.throwsAsync(provider(fake).generatePlan(request), { instanceOf: AiPermanentError });
  t.false(error.message.includes(API_KEY));
  t.false(error.message.includes('SECRET0123456789'));
  t.regex(error.message, /401/);
  t.is(fake.requests.length, 1);
});

for (const kind of ['refusal', 'content_filter'] as const) {
  test(`${kind} is permanent`, async (t) => {
    const { fake } = t.context;
    fake.enqueue({ kind });
    await t.throwsAsync(provider(fake).generatePlan(request), { instanceOf: AiPermanentError });
    t.is(fake.requests.length, 1);
  });
}

test('an unparseable language code falls back to English', async (t) => {
  const { fake } = t.context;
  await provider(fake).generatePlan({ ...request, languageCode: '!!', firstName: null });
  const body = fake.requests[0]!.body as { messages: { content: string }[] };
  t.is((JSON.parse(body.messages[1]!.content) as { language: string }).language, 'English');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
