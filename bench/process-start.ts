import { type ChildProcess, spawn } from 'node:child_process';
import { startFakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import { TEST_BOT_TOKEN } from '../test/helpers/init-data.ts';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '../test/helpers/test-database.ts';
import { type Measure, median, progress, round } from './helpers/measure.ts';
import { rssMiB, stopChild } from './helpers/processes.ts';

type ProcessName = 'web' | 'worker' | 'bot';
type Runner = 'node' | 'tsx';

/** The log line each process writes once it serves (web), drains (worker) or polls (bot). */
const READY_MESSAGE: Record<ProcessName, string> = {
  web: 'web listening',
  worker: 'worker started',
  bot: 'bot process polling',
};

interface StartRun {
  readyMs: number;
  idleRssMiB: number;
}

/**
 * Start time and idle memory of each production process, run as production runs it (`node
 * src/cli/<name>.ts`, Node 24 stripping the types) against the same process through the tsx
 * loader (`node --import tsx`, how every process ran before the code became erasable-syntax only).
 * Ready = spawn until the process logs that it serves; idle RSS = VmRSS `idleSeconds` later, with
 * nothing to do. Runs alternate node / tsx per pair, against one migrated database, the local Redis
 * and a fake Bot API (the bot process long-polls it).
 *
 *   npm run bench -- startup [pairs] [idle seconds]
 */
export async function processStart(pairs = 3, idleSeconds = 5): Promise<Measure[]> {
  const database = await createTestDatabase();
  const telegram = await startFakeTelegramBotApi({ token: TEST_BOT_TOKEN });
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniquePrefix('startup'),
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    AI_PROVIDER: 'offline',
    PORT: '0',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const runs: Record<string, StartRun[]> = {};
  try {
    for (let pair = 1; pair <= pairs; pair++) {
      for (const name of ['web', 'worker', 'bot'] as const) {
        for (const runner of ['node', 'tsx'] as const) {
          progress(`startup pair ${pair}: ${name} via ${runner}`);
          const key = `${name}/${runner}`;
          runs[key] = [...(runs[key] ?? []), await startOnce(name, runner, env, idleSeconds)];
        }
      }
    }
  } finally {
    await telegram.close();
    await database.drop();
  }
  return (['web', 'worker', 'bot'] as const).map((name) => {
    const native = runs[`${name}/node`] ?? [];
    const tsx = runs[`${name}/tsx`] ?? [];
    const nodeReady = median(native.map((r) => r.readyMs));
    const tsxReady = median(tsx.map((r) => r.readyMs));
    const nodeRss = median(native.map((r) => r.idleRssMiB));
    const tsxRss = median(tsx.map((r) => r.idleRssMiB));
    return {
      process: name,
      pairs,
      nodeReadyMs: round(nodeReady, 0),
      tsxReadyMs: round(tsxReady, 0),
      ratioReady: round(nodeReady / tsxReady, 2),
      nodeIdleRssMiB: round(nodeRss),
      tsxIdleRssMiB: round(tsxRss),
      ratioIdleRss: round(nodeRss / tsxRss, 2),
    };
  });
}

async function startOnce(
  name: ProcessName,
  runner: Runner,
  env: Record<string, string>,
  idleSeconds: number,
): Promise<StartRun> {
  const args = runner === 'tsx' ? ['--import', 'tsx', `src/cli/${name}.ts`] : [`src/cli/${name}.ts`];
  const started = performance.now();
  const child = spawn('node_modules/.bin/node', args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await waitForLog(child, READY_MESSAGE[name]);
    const readyMs = performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    return { readyMs, idleRssMiB: rssMiB(child.pid!) };
  } finally {
    await stopChild(child);
  }
}

function waitForLog(child: ChildProcess, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`no "${message}" within 60 s`)), 60_000);
    child.once('exit', (code) => reject(new Error(`exited with ${code} before "${message}"`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes(`"msg":"${message}"`)) {
        clearTimeout(timer);
        resolve();
      }
      buffered = buffered.slice(-4096);
    });
  });
}
