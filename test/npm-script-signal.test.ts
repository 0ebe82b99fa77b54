import { spawn } from 'node:child_process';
import test from 'ava';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// Procfile platforms start `npm run worker` and send SIGTERM to that process. It must reach the
// node process that drains, not stop at npm or sh and leave node running on its own.
test('SIGTERM to `npm run worker` reaches the worker, which drains and exits', async (t) => {
  const system = await startTestSystem({ worker: false });
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('plans', { connection: redis, prefix: system.config.redis.queuePrefix });
  const child = spawn('npm', ['run', '--silent', 'worker'], {
    env: {
      ...process.env,
      ...system.childEnv,
      PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group, so teardown can kill whatever npm leaves behind.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += String(chunk);
  });
  t.teardown(async () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
    await queue.close();
    await system.stop();
    redis.disconnect();
  });

  await waitFor('the worker is connected', async () => (await queue.getWorkers()).length > 0, 30_000);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  await exited;

  // Without the signal reaching it, node would keep running (and stay connected) after npm exits.
  await waitFor('the worker ran its shutdown', () => output.includes('"msg":"worker stopped"'));
  await waitFor(
    'the worker closed its queue connections',
    async () => (await queue.getWorkers()).length === 0,
  );
  t.pass();
});
