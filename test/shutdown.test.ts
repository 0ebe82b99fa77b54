import { type ChildProcess, spawn } from 'node:child_process';
import test from 'ava';
import { PersonalPlan } from '../src/db/entities/index.ts';
import { spawnWorker } from './helpers/child-worker.ts';
import { freePort } from './helpers/free-port.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

function exitOf(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
}

test('SIGTERM to a web process under load: every request it accepted is answered, then it exits', async (t) => {
  const system = await startTestSystem({ worker: false });
  const port = await freePort();
  const web = spawn('node_modules/.bin/node', ['--import', 'tsx', 'src/cli/web.ts'], {
    env: { ...process.env, ...system.childEnv, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  web.stdout!.on('data', (chunk) => {
    output += String(chunk);
  });
  t.teardown(async () => {
    web.kill('SIGKILL');
    await system.stop();
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('web up', async () => (await fetch(`${base}/healthz`)).ok, 20_000, 100);

  const auth = authHeader({ id: 8501 });
  let sigtermAt = Number.POSITIVE_INFINITY;
  const startedBeforeSignal: Promise<number | string>[] = [];
  let stop = false;
  const load = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const startedAt = Date.now();
      // A refused connection means the process no longer accepts; anything else (reset, hang-up)
      // would be a request it accepted and then cut.
      const request = fetch(`${base}/api/me`, { headers: { authorization: auth } }).then(
        (response) => response.status,
        (error: { cause?: { code?: string } }) =>
          error.cause?.code === 'ECONNREFUSED' ? 'refused' : `cut:${error.cause?.code}`,
      );
      if (startedAt < sigtermAt) startedBeforeSignal.push(request);
      const status = await request;
      if (typeof status === 'string') return;
    }
  });
  // Signal while the load is running: at least 20 requests made, and 8 in flight at any moment.
  await waitFor('load running', () => startedBeforeSignal.length >= 20, 20_000, 10);
  const exited = exitOf(web);
  sigtermAt = Date.now();
  web.kill('SIGTERM');
  const { code, at } = await exited;
  stop = true;
  await Promise.all(load);

  t.log(`drained and exited ${at - sigtermAt} ms after SIGTERM`);
  t.is(code, 0, 'clean exit');
  // Busy keep-alive connections are closed after their response, not cut at the deadline.
  t.false(output.includes('shutdown_deadline_connections_cut'), output);
  t.true(at - sigtermAt < 12_000, `exited after ${at - sigtermAt} ms (limit: SHUTDOWN_TIMEOUT_MS + 2 s)`);
  const statuses = await Promise.all(startedBeforeSignal);
  t.true(statuses.length >= 20, `${statuses.length} requests before SIGTERM`);
  // A request that was in flight at SIGTERM is answered, not cut; only new connections are refused.
  const cut = statuses.filter((status) => status !== 200 && status !== 'refused');
  t.deepEqual(cut, []);
});

test('SIGTERM to a worker mid-job: active jobs finish, nothing is lost', async (t) => {
  const system = await startTestSystem({ worker: false, openai: true, env: { AI_TIMEOUT_MS: '10000' } });
  const workers: ChildProcess[] = [];
  t.teardown(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await system.stop();
  });
  system.openai!.setDefault({ kind: 'slow', delayMs: 1_500, andThen: { kind: 'ok' } });
  const first = spawnWorker(system.childEnv);
  workers.push(first);
  const plans: string[] = [];
  for (let i = 0; i < 6; i++) {
    const auth = authHeader({ id: 8600 + i });
    const body = await (
      await system.request('/api/surveys', {
        method: 'POST',
        auth,
        body: JSON.stringify({ answers: validAnswers }),
      })
    ).json();
    plans.push(body.plan.id);
  }
  await waitFor(
    'jobs active',
    async () => (await system.em().count(PersonalPlan, { status: 'generating' })) > 0,
    20_000,
  );
  const exited = exitOf(first);
  const sigtermAt = Date.now();
  first.kill('SIGTERM');
  const { code, at } = await exited;
  t.is(code, 0);
  t.true(at - sigtermAt < 15_000, `exited after ${at - sigtermAt} ms`);
  // What was generating when the signal came finished before the process left.
  t.is(await system.em().count(PersonalPlan, { id: { $in: plans }, status: 'generating' }), 0);

  // The rest was handed back: a new worker completes everything, each plan once.
  workers.push(spawnWorker(system.childEnv));
  await waitFor(
    'all plans ready',
    async () =>
      (await system.em().count(PersonalPlan, { id: { $in: plans }, status: 'ready' })) === plans.length,
    30_000,
    200,
  );
  await waitFor('all messages', () => system.telegram.sentMessages.length === plans.length, 20_000);
  t.is(system.telegram.sentMessages.length, plans.length);
  t.is(system.openai!.requests.length, plans.length, 'no plan generated twice');
});
