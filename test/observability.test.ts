import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Notification } from '../src/db/entities/index.ts';
import { spawnWorker, stopWorker } from './helpers/child-worker.ts';
import { freePort } from './helpers/free-port.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    env: {
      METRICS_TOKEN: 'metrics-token-123',
      BULL_BOARD_USER: 'ops',
      BULL_BOARD_PASSWORD: 'board-pass-456',
    },
  });
});
test.after.always(async () => {
  await system?.stop();
});

const scrape = async () =>
  (await system.request('/metrics', { headers: { authorization: 'Bearer metrics-token-123' } })).text();

test.serial('/metrics exposes the contract metrics after a client journey', async (t) => {
  const auth = authHeader({ id: 8401 });
  const { plan } = await (
    await system.request('/api/surveys', {
      method: 'POST',
      auth,
      body: JSON.stringify({ answers: validAnswers }),
    })
  ).json();
  await system.request('/api/me', { auth: `${auth}0` });
  await waitFor('message sent', async () => (await system.em().count(Notification, { status: 'sent' })) > 0);
  await system.request(`/api/plans/${plan.id}`, { auth });

  const expected = [
    'telegram_auth_total{result="success"}',
    'telegram_auth_errors_total{reason="bad_hash"} 1',
    'telegram_auth_seconds_count',
    'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/plans/:planId",status="200"}',
    'http_request_duration_seconds_count{method="POST",route="/api/surveys",status="202"} 1',
    'personal_plan_generation_seconds_count{provider="offline"} 1',
    'personal_plans_total{status="ready"} 1',
    'notifications_total{status="sent"} 1',
    'daily_active_users{tenant="00000000-0000-4000-8000-000000000001"} 1',
    'bullmq_job_count{queue="plans",state="completed"} 1',
    'bullmq_job_duration_seconds_count{queue="plans",job="plans.generate",outcome="completed"} 1',
    'process_cpu_seconds_total',
    '# TYPE bot_api_403_responses_total counter',
  ];
  // The plan job's own completion is recorded a moment after its work commits, so poll briefly.
  let body = '';
  await waitFor('every contract metric', async () => {
    body = await scrape();
    return expected.every((line) => body.includes(line));
  }).catch(() => undefined);
  for (const line of expected) {
    t.true(body.includes(line), `missing: ${line}`);
  }
  // Route templates, never raw ids, so label cardinality stays bounded.
  t.false(body.includes(plan.id));
});

test.serial('/metrics needs the bearer token when METRICS_TOKEN is set', async (t) => {
  t.is((await system.request('/metrics')).status, 401);
  t.is((await system.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
  t.is(
    (await system.request('/metrics', { headers: { authorization: 'Bearer metrics-token-123' } })).status,
    200,
  );
});

test.serial('Bull Board is behind basic auth', async (t) => {
  const anonymous = await system.request('/admin/queues');
  t.is(anonymous.status, 401);
  t.regex(anonymous.headers.get('www-authenticate') ?? '', /^Basic/);
  const wrong = Buffer.from('ops:nope').toString('base64');
  t.is((await system.request('/admin/queues', { headers: { authorization: `Basic ${wrong}` } })).status, 401);
  const right = Buffer.from('ops:board-pass-456').toString('base64');
  const page = await system.request('/admin/queues', { headers: { authorization: `Basic ${right}` } });
  t.is(page.status, 200);
  t.regex(await page.text(), /<html/i);
  const api = await system.request('/admin/queues/api/queues', {
    headers: { authorization: `Basic ${right}` },
  });
  t.is(api.status, 200);
  const names = ((await api.json()) as { queues: { name: string }[] }).queues
    .map((queue) => queue.name)
    .sort();
  t.deepEqual(names, ['billing', 'metrics', 'notifications', 'plans']);
});

test.serial('a worker process serves its own /metrics and /healthz', async (t) => {
  const port = await freePort();
  let worker: ChildProcess | undefined;
  t.teardown(async () => {
    if (worker) await stopWorker(worker);
  });
  worker = spawnWorker({
    ...system.childEnv,
    WORKER_METRICS_PORT: String(port),
    METRICS_TOKEN: 'metrics-token-123',
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('worker listening', async () => (await fetch(`${base}/healthz`)).ok, 20_000, 200);
  t.is((await fetch(`${base}/metrics`)).status, 401);
  const body = await (
    await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer metrics-token-123' } })
  ).text();
  t.true(body.includes('# TYPE bullmq_job_duration_seconds histogram'));
  t.true(body.includes('nodejs_eventloop_lag_seconds'));
});
