import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { PersonalPlan } from '../src/db/entities/index.ts';
import { DUPLICATE_SIGNAL_WINDOW_MS } from '../src/processes/run-until-signal.ts';
import { freePort } from './helpers/free-port.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { logMessages, runNpmScript } from './helpers/npm-script.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// Procfile platforms start `npm run worker` and send SIGTERM to that process. It must reach the
// node process that drains, not stop at npm or sh and leave node running on its own.
test('SIGTERM to `npm run worker` reaches the worker, which drains and exits', async (t) => {
  const system = await startTestSystem({ worker: false });
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('plans', { connection: redis, prefix: system.config.redis.queuePrefix });
  const npm = runNpmScript('worker', system.childEnv);
  t.teardown(async () => {
    npm.kill();
    await queue.close();
    await system.stop();
    redis.disconnect();
  });

  await waitFor('the worker is connected', async () => (await queue.getWorkers()).length > 0, 30_000);
  // To npm alone, not its group.
  npm.child.kill('SIGTERM');
  await npm.exited;

  // Without the signal reaching it, node would keep running (and stay connected) after npm exits.
  await waitFor('the worker ran its shutdown', () => npm.output().includes('"msg":"worker stopped"'));
  await waitFor(
    'the worker closed its queue connections',
    async () => (await queue.getWorkers()).length === 0,
  );
  t.pass();
});

// Heroku-style platforms signal the dyno's whole process group, and Ctrl-C signals the terminal's
// foreground group: node gets the signal directly and again, milliseconds later, from npm, which
// forwards what it got. The copy must not count as an operator's second signal. (When npm's copy
// comes before node has taken the first, the kernel merges the two and node sees one signal; the
// tests log which happened. The stopOnSignal tests below send the copy deterministically.)
const DUPLICATE = 'duplicate signal; still draining';

/** Whether node logged npm's copy of the signal; for the test's log only. */
function copyNote(messages: string[]): string {
  return messages.includes(DUPLICATE)
    ? "npm's copy of the signal arrived during the drain and was ignored"
    : "npm's copy of the signal was merged with the original (node saw one signal)";
}

test('group SIGTERM to `npm run worker` mid-job: the copy from npm is ignored, active jobs finish, exit 0', async (t) => {
  const system = await startTestSystem({ worker: false, openai: true, env: { AI_TIMEOUT_MS: '10000' } });
  // Every generation takes 2 s, so jobs are still running when npm's copy of the signal arrives.
  system.openai!.setDefault({ kind: 'slow', delayMs: 2_000, andThen: { kind: 'ok' } });
  const npm = runNpmScript('worker', system.childEnv);
  t.teardown(async () => {
    npm.kill();
    await system.stop();
  });
  await waitFor('worker started', () => logMessages(npm.output()).includes('worker started'), 30_000);

  const plans: string[] = [];
  for (let i = 0; i < 6; i++) {
    const body = await (
      await system.request('/api/surveys', {
        method: 'POST',
        auth: authHeader({ id: 8700 + i }),
        body: JSON.stringify({ answers: validAnswers }),
      })
    ).json();
    plans.push(body.plan.id);
  }
  const running = await waitFor(
    'jobs running',
    async () => {
      const generating = await system
        .em()
        .find(PersonalPlan, { id: { $in: plans }, status: 'generating' }, { fields: ['id'] });
      return generating.length > 0 ? generating.map((plan) => plan.id) : undefined;
    },
    20_000,
  );
  npm.signalGroup('SIGTERM');
  const code = await npm.exited;

  const messages = logMessages(npm.output());
  t.is(code, 0, npm.output());
  t.true(messages.includes('worker stopped'), 'drained');
  t.false(messages.includes('second signal; exiting now'), npm.output());
  t.false(messages.includes('shutdown deadline passed; exiting'), npm.output());
  // The jobs running when the signal came were finished, not cut.
  const after = await system.em().find(PersonalPlan, { id: { $in: running } }, { fields: ['status'] });
  t.deepEqual(
    after.map((plan) => plan.status),
    running.map(() => 'ready'),
  );
  t.is(await system.em().count(PersonalPlan, { id: { $in: plans }, status: 'generating' }), 0);
  t.log(`${running.length} running jobs finished during the drain; ${copyNote(messages)}`);
});

test('group SIGTERM to `npm run web` under load: every accepted request is answered, exit 0', async (t) => {
  const system = await startTestSystem({ worker: false });
  const port = await freePort();
  const npm = runNpmScript('web', { ...system.childEnv, PORT: String(port), LOG_LEVEL: 'info' });
  t.teardown(async () => {
    npm.kill();
    await system.stop();
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('web up', async () => (await fetch(`${base}/healthz`)).ok, 30_000, 100);

  // A slow client's upload: the server has its headers and half its body when the signal comes,
  // and the test sends the rest only once node has logged npm's copy of the signal (or, if the
  // kernel merged the copy with the original, after a while). So the drain is still going on when
  // the copy arrives, whatever the machine's speed.
  const body = JSON.stringify({ answers: validAnswers });
  const upload = request(`${base}/api/surveys`, {
    method: 'POST',
    agent: false,
    headers: {
      authorization: authHeader({ id: 8802 }),
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': 'group-upload',
    },
  });
  const uploadStatus = new Promise<number | string>((resolve) => {
    upload.once('response', (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode!));
    });
    upload.once('error', (error: NodeJS.ErrnoException) => resolve(`failed:${error.code}`));
  });
  await new Promise<void>((resolve) => upload.write(body.slice(0, 20), () => resolve()));

  const auth = authHeader({ id: 8801 });
  const results = new Map<string, number | string>();
  let answeredBeforeSignal = 0;
  let signalled = false;
  let stop = false;
  let sequence = 0;
  const load = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const id = `group-${++sequence}`;
      const status = await fetch(`${base}/api/me`, {
        headers: { authorization: auth, 'x-request-id': id },
      }).then(
        (response) => response.status,
        (error: { cause?: { code?: string } }) => `failed:${error.cause?.code}`,
      );
      if (!signalled) answeredBeforeSignal++;
      results.set(id, status);
      if (typeof status === 'string') return;
    }
  });
  // Signal while the load is running: at least 20 requests answered (so the server long since read
  // the upload's headers, sent before them), and 8 in flight at any moment.
  await waitFor('load running', () => answeredBeforeSignal >= 20, 20_000, 10);
  signalled = true;
  npm.signalGroup('SIGTERM');
  await waitFor('shutting down', () => logMessages(npm.output()).includes('shutting down'), 20_000, 10);
  // Bounds only how long the test waits for a copy that may never come; the verdict is on the logs.
  await waitFor(
    "npm's copy of the signal (or the exit it used to cause)",
    () => logMessages(npm.output()).includes(DUPLICATE) || npm.child.exitCode !== null,
    2 * DUPLICATE_SIGNAL_WINDOW_MS,
    10,
  ).catch(() => {});
  upload.end(body.slice(20));
  results.set('group-upload', await uploadStatus);
  const code = await npm.exited;
  stop = true;
  await Promise.all(load);

  const output = npm.output();
  const messages = logMessages(output);
  t.is(code, 0, output);
  t.true(messages.includes('web stopped'), 'drained');
  t.false(messages.includes('second signal; exiting now'), output);
  t.false(output.includes('shutdown_deadline_connections_cut'), output);
  t.is(results.get('group-upload'), 202, 'the slow upload was answered');
  // Every request the process took in (its access log names it) was answered; see shutdown.test.ts
  // for why a client can still see a reset for one the server never read.
  const handled = output
    .split('\n')
    .filter((line) => line.includes('"event":"http_request"'))
    .map((line) => JSON.parse(line).requestId as string)
    .filter((id) => id.startsWith('group-'));
  t.true(handled.length >= 20, `${handled.length} requests handled`);
  t.true(handled.includes('group-upload'));
  t.deepEqual(
    handled
      .filter((id) => results.get(id) !== (id === 'group-upload' ? 202 : 200))
      .map((id) => `${id}: ${results.get(id)}`),
    [],
  );
  t.log(`${handled.length} requests handled, all answered; ${copyNote(messages)}`);
});

/** Runs test/helpers/stop-on-signal-target.ts: stopOnSignal with a stop() that ends on a stdin line. */
async function startSignalTarget() {
  const child = spawn('node_modules/.bin/node', ['test/helpers/stop-on-signal-target.ts'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Also returns when the target has exited, so a test fails on its assertions, not on a timeout.
  const logged = (msg: string) =>
    waitFor(msg, () => logMessages(output).includes(msg) || child.exitCode !== null, 20_000, 10);
  await logged('ready');
  return { child, exited, logged, messages: () => logMessages(output), output: () => output };
}

for (const [first, copy] of [
  ['SIGTERM', 'SIGTERM'],
  ['SIGINT', 'SIGINT'],
] as const) {
  test(`stopOnSignal: ${first} then ${copy} right away is one signal, the drain goes on`, async (t) => {
    const target = await startSignalTarget();
    t.teardown(() => target.child.kill('SIGKILL'));
    target.child.kill(first);
    await target.logged('stop begun');
    target.child.kill(copy);
    await target.logged(DUPLICATE);
    t.true(target.messages().includes(DUPLICATE), target.output());
    // Only now does the stoppable finish.
    target.child.stdin.write('finish\n');
    t.is(await target.exited, 0, target.output());
    t.true(target.messages().includes('stop finished'));
    t.false(target.messages().includes('second signal; exiting now'));
  });
}

for (const [first, second] of [
  ['SIGTERM', 'SIGTERM'],
  ['SIGTERM', 'SIGINT'],
] as const) {
  test(`stopOnSignal: ${second} more than ${DUPLICATE_SIGNAL_WINDOW_MS} ms after ${first} exits at once, unclean`, async (t) => {
    const target = await startSignalTarget();
    t.teardown(() => target.child.kill('SIGKILL'));
    target.child.kill(first);
    await target.logged('stop begun');
    // A lower bound only: the target sees the second signal at least this long after the first.
    await sleep(DUPLICATE_SIGNAL_WINDOW_MS + 500);
    target.child.kill(second);
    // The stoppable never finishes (nothing is written to stdin): only the second signal ends it.
    t.is(await target.exited, 1, target.output());
    t.true(target.messages().includes('second signal; exiting now'));
    t.false(target.messages().includes('stop finished'));
    t.false(target.messages().includes(DUPLICATE));
  });
}
