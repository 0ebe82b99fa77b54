import test from 'ava';
import { TestResult } from '../src/db/entities/index.ts';
import { authHeader } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ worker: false });
});
test.after.always(async () => {
  await system?.stop();
});

const post = (auth: string, body: unknown) =>
  system.request('/api/test-results', { method: 'POST', auth, body: JSON.stringify(body) });

test.serial('a check-in is stored for the caller and echoed back', async (t) => {
  const auth = authHeader({ id: 8701 });
  const response = await post(auth, {
    kind: 'check_in',
    results: { weightKg: 71.5, energy: 7, sleepHours: 7.5 },
    recordedAt: new Date(Date.now() - 3600_000).toISOString(),
    notes: 'Felt good',
  });
  t.is(response.status, 201);
  const body = await response.json();
  t.like(body, {
    kind: 'check_in',
    results: { weightKg: 71.5, energy: 7, sleepHours: 7.5 },
    notes: 'Felt good',
  });
  const stored = await system.em().findOneOrFail(TestResult, { id: body.id });
  t.is(stored.kind, 'check_in');
  t.is(stored.recordedAt.toISOString(), body.recordedAt);
});

test.serial('bad results are 400 and store nothing', async (t) => {
  const auth = authHeader({ id: 8702 });
  const before = await system.em().count(TestResult, {});
  for (const body of [
    {},
    { kind: 'selfie', results: { pushUps: 10 } },
    { kind: 'fitness_test', results: {} },
    { kind: 'fitness_test', results: { pushUps: -1 } },
    { kind: 'fitness_test', results: { pushUps: 10.5 } },
    { kind: 'fitness_test', results: { benchPressKg: 100 } },
    { kind: 'fitness_test', results: { pushUps: 10 }, recordedAt: '2099-01-01T00:00:00Z' },
    { kind: 'fitness_test', results: { pushUps: 10 }, recordedAt: 'yesterday' },
    { kind: 'fitness_test', results: { pushUps: 10 }, notes: 'x'.repeat(1001) },
    { kind: 'fitness_test', results: { pushUps: 10 }, extra: true },
  ]) {
    const response = await post(auth, body);
    t.is(response.status, 400, JSON.stringify(body).slice(0, 80));
    t.is((await response.json()).error.code, 'validation_failed');
  }
  t.is(await system.em().count(TestResult, {}), before);
  t.is((await system.request('/api/test-results', { method: 'POST', body: '{}' })).status, 401);
});

test.serial('100 results per hour per user, then 429 with Retry-After; other users unaffected', async (t) => {
  const auth = authHeader({ id: 8703 });
  const statuses = await Promise.all(
    Array.from({ length: 100 }, () => post(auth, { kind: 'fitness_test', results: { pushUps: 20 } })),
  ).then((responses) => responses.map((response) => response.status));
  t.true(statuses.every((status) => status === 201));
  const limited = await post(auth, { kind: 'fitness_test', results: { pushUps: 20 } });
  t.is(limited.status, 429);
  t.is((await limited.json()).error.code, 'test_results_rate_limited');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.true(retryAfter > 3500 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
  t.is((await post(authHeader({ id: 8704 }), { kind: 'check_in', results: { energy: 5 } })).status, 201);
});
