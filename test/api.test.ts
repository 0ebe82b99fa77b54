import test from 'ava';
import {
  Application,
  Outbox,
  PersonalPlan,
  Subscription,
  Survey,
  TelegramUser,
} from '../src/db/entities/index.ts';
import { expectError } from './helpers/expect-error.ts';
import { authHeader, initDataFor, TEST_BOT_TOKEN, validAnswers } from './helpers/init-data.ts';
import { seedSubscription } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ worker: false, env: { PLANS_PER_USER_PER_DAY: '2' } });
});
test.after.always(async () => {
  if (process.env.DUMP_LOGS) console.log(system.logs.filter((l) => l.includes('"level":50')).join('\n'));
  await system?.stop();
});

const post = (path: string, auth: string | undefined, body: string, headers: Record<string, string> = {}) =>
  system.request(path, {
    method: 'POST',
    ...(auth ? { auth } : {}),
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

async function counts() {
  const em = system.em();
  return {
    surveys: await em.count(Survey, {}),
    applications: await em.count(Application, {}),
    plans: await em.count(PersonalPlan, {}),
    outbox: await em.count(Outbox, {}),
  };
}

test.serial('GET /api/me without credentials → 401 JSON', async (t) => {
  await expectError(t, await system.request('/api/me'), 401, 'missing_credentials');
  await expectError(t, await system.request('/api/me', { auth: 'Bearer abc' }), 401, 'missing_credentials');
});

test.serial('forged, expired, truncated, garbage and foreign-bot initData → 401, never 500', async (t) => {
  const valid = initDataFor({ id: 42 });
  const cases: [string, string][] = [
    ['forged', `tma ${valid.replace(/hash=[0-9a-f]{4}/, 'hash=0000')}`],
    ['truncated', `tma ${valid.slice(0, -5)}`],
    ['garbage', 'tma %%%garbage%%%'],
    ['binary', `tma ${Buffer.from([0xff, 0xfe, 0x41]).toString('latin1')}`],
    ['other bot', `tma ${initDataFor({ id: 42 }, { token: '2:AAanother-bot-token-value' })}`],
  ];
  for (const [label, auth] of cases) {
    const response = await system.request('/api/me', { auth });
    t.is(response.status, 401, label);
    t.is((await response.json()).error.code, 'invalid_init_data', label);
  }
  await expectError(t, await system.request('/api/me', { auth: 'tma ' }), 401, 'missing_credentials');
  const expired = authHeader({ id: 42 }, { authDate: Math.floor(Date.now() / 1000) - 90_000 });
  await expectError(t, await system.request('/api/me', { auth: expired }), 401, 'init_data_expired');
});

test.serial('GET /api/me creates the user and answers with the contract fields', async (t) => {
  const auth = authHeader({
    id: '9007199254740993',
    first_name: 'Big',
    last_name: 'Id',
    username: 'big_id',
    language_code: 'de',
  });
  const response = await system.request('/api/me', { auth });
  t.is(response.status, 200);
  t.deepEqual(await response.json(), {
    telegramId: '9007199254740993',
    firstName: 'Big',
    lastName: 'Id',
    username: 'big_id',
    languageCode: 'de',
    role: null,
    isClient: false,
    subscription: null,
    latestPlan: null,
  });
});

test.serial("GET /api/me shows the caller's subscription from the local table", async (t) => {
  const auth = authHeader({ id: 109 });
  const me = await (await system.request('/api/me', { auth })).json();
  t.is(me.subscription, null);
  const user = await system.em().findOneOrFail(TelegramUser, { telegramId: '109' });
  const em = system.em();
  const row = seedSubscription(em, user, {
    planTitle: 'Coaching monthly',
    currentPeriodEnd: new Date('2027-01-01T00:00:00Z'),
  });
  await em.flush();
  const after = await (await system.request('/api/me', { auth })).json();
  t.deepEqual(after.subscription, {
    planTitle: 'Coaching monthly',
    status: 'active',
    currentPeriodEnd: '2027-01-01T00:00:00.000Z',
    renews: true,
  });

  // Cancelled: still paid until the period ends, no longer renewing. Price and provider stay private.
  await em.nativeUpdate(Subscription, { id: row.id }, { status: 'cancelled', renews: false });
  t.deepEqual((await (await system.request('/api/me', { auth })).json()).subscription, {
    planTitle: 'Coaching monthly',
    status: 'cancelled',
    currentPeriodEnd: '2027-01-01T00:00:00.000Z',
    renews: false,
  });
});

test.serial('POST /api/surveys: malformed JSON → 400, oversize → 413, wrong type → 415', async (t) => {
  const auth = authHeader({ id: 100 });
  const before = await counts();
  await expectError(t, await post('/api/surveys', auth, '{"answers": {'), 400, 'malformed_json');
  await expectError(
    t,
    await post('/api/surveys', auth, JSON.stringify({ answers: validAnswers, notes: 'x'.repeat(100_000) })),
    413,
    'payload_too_large',
  );
  await expectError(
    t,
    await post('/api/surveys', auth, 'answers=1', { 'content-type': 'text/plain' }),
    415,
    'unsupported_media_type',
  );
  await expectError(t, await post('/api/surveys', auth, '[]'), 400, 'validation_failed');
  t.deepEqual(await counts(), before, 'nothing written');
});

test.serial('POST /api/surveys: every invalid answer → 400 with details, nothing written', async (t) => {
  const auth = authHeader({ id: 101 });
  const before = await counts();
  const invalid: [string, object][] = [
    ['goal', { goal: 'get_rich' }],
    ['sex', { sex: 'x' }],
    ['age', { age: 13 }],
    ['age', { age: 91 }],
    ['age', { age: 30.5 }],
    ['heightCm', { heightCm: 119 }],
    ['weightKg', { weightKg: 251 }],
    ['activityLevel', { activityLevel: 'extreme' }],
    ['experience', { experience: 'guru' }],
    ['daysPerWeek', { daysPerWeek: 0 }],
    ['daysPerWeek', { daysPerWeek: 8 }],
    ['sessionMinutes', { sessionMinutes: 10 }],
    ['equipment', { equipment: ['spaceship'] }],
    ['equipment', { equipment: [] }],
    ['equipment', { equipment: ['bands', 'bands'] }],
    ['injuries', { injuries: 'x'.repeat(1001) }],
    ['notes', { notes: 'x'.repeat(2001) }],
    ['notes', { notes: 'a\u0000b' }],
    ['age', { age: '30' }],
    ['', { unexpected: true }],
  ];
  for (const [field, patch] of invalid) {
    const body = await expectError(
      t,
      await post('/api/surveys', auth, JSON.stringify({ answers: { ...validAnswers, ...patch } })),
      400,
      'validation_failed',
    );
    t.true(
      body.error.details.some((d: { path: string }) =>
        d.path.startsWith(`answers${field ? `.${field}` : ''}`),
      ),
      `${field} named in details`,
    );
  }
  const { goal: _goal, ...missingGoal } = validAnswers;
  const body = await expectError(
    t,
    await post('/api/surveys', auth, JSON.stringify({ answers: missingGoal })),
    400,
    'validation_failed',
  );
  t.is(body.error.details[0].path, 'answers.goal');
  t.deepEqual(await counts(), before, 'nothing written');
});

test.serial('POST /api/surveys → 202; over PLANS_PER_USER_PER_DAY → 429 with Retry-After', async (t) => {
  const auth = authHeader({ id: 102 });
  for (let i = 0; i < 2; i++) {
    const response = await post(
      '/api/surveys',
      auth,
      JSON.stringify({ answers: { ...validAnswers, injuries: 'none', notes: 'ok' } }),
    );
    t.is(response.status, 202);
    const body = await response.json();
    t.deepEqual(Object.keys(body).sort(), ['applicationId', 'plan', 'surveyId']);
    t.deepEqual(Object.keys(body.plan).sort(), ['id', 'status']);
  }
  const before = await counts();
  const limited = await post('/api/surveys', auth, JSON.stringify({ answers: validAnswers }));
  await expectError(t, limited, 429, 'plan_quota_exceeded');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.true(retryAfter > 86_000 && retryAfter <= 86_400, `Retry-After ${retryAfter}`);
  t.deepEqual(await counts(), before, 'nothing written');
  // Another user is not affected.
  t.is(
    (await post('/api/surveys', authHeader({ id: 103 }), JSON.stringify({ answers: validAnswers }))).status,
    202,
  );
});

test.serial('concurrent submissions cannot race past the quota', async (t) => {
  const auth = authHeader({ id: 104 });
  const responses = await Promise.all(
    Array.from({ length: 6 }, () => post('/api/surveys', auth, JSON.stringify({ answers: validAnswers }))),
  );
  const statuses = responses.map((r) => r.status).sort();
  t.deepEqual(statuses, [202, 202, 429, 429, 429, 429]);
});

test.serial("plans: own plan 200, another user's plan 404, bad id 400, no plan 404", async (t) => {
  const owner = authHeader({ id: 105 });
  const stranger = authHeader({ id: 106 });
  await expectError(t, await system.request('/api/plans/latest', { auth: owner }), 404, 'plan_not_found');
  const { plan } = await (
    await post('/api/surveys', owner, JSON.stringify({ answers: validAnswers }))
  ).json();
  const own = await system.request(`/api/plans/${plan.id}`, { auth: owner });
  t.is(own.status, 200);
  const view = await own.json();
  t.is(view.id, plan.id);
  t.true(['queued', 'generating', 'ready'].includes(view.status));
  t.truthy(Date.parse(view.createdAt));
  await expectError(
    t,
    await system.request(`/api/plans/${plan.id}`, { auth: stranger }),
    404,
    'plan_not_found',
  );
  await expectError(
    t,
    await system.request('/api/plans/not-a-uuid', { auth: owner }),
    400,
    'invalid_plan_id',
  );
  await expectError(
    t,
    await system.request('/api/plans/00000000-0000-4000-8000-000000000999', { auth: owner }),
    404,
    'plan_not_found',
  );
});

test.serial(
  'unknown endpoints → 404 JSON, wrong method → 405 JSON; health and readiness answer',
  async (t) => {
    await expectError(t, await system.request('/nope'), 404, 'not_found');
    const wrongMethod = await system.request('/api/surveys', { auth: authHeader({ id: 108 }) });
    await expectError(t, wrongMethod, 405, 'method_not_allowed');
    t.is(wrongMethod.headers.get('allow'), 'POST');
    t.is((await system.request('/healthz')).status, 200);
    const ready = await system.request('/readyz');
    t.is(ready.status, 200);
    t.deepEqual((await ready.json()).checks, { postgres: 'ok', redis: 'ok' });
  },
);

test.serial('initData and the bot token never appear in logs', async (t) => {
  const auth = authHeader({ id: 107 });
  await system.request('/api/me', { auth });
  await system.request('/api/me', { auth: `${auth}x` });
  const logs = system.logs.join('\n');
  t.true(logs.includes('telegram_auth_failed'));
  t.false(logs.includes(auth.slice(4, 60)));
  t.false(logs.includes(TEST_BOT_TOKEN));
  t.false(logs.includes('hash='));
});
