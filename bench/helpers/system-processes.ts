import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { DEFAULT_TENANT_ID } from '../../src/db/orm.ts';
import { startFakeTelegramProcess } from '../../test/helpers/fake-telegram-process.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { authHeader, TEST_BOT_TOKEN } from '../../test/helpers/init-data.ts';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '../../test/helpers/test-database.ts';
import { removeKeys, spawnCli, stopChild, waitForHttp } from './processes.ts';

/**
 * The product as separate processes on this machine, as the Procfile runs it: `src/cli/web.ts`,
 * N × `src/cli/worker.ts` (every queue, default settings, offline generator) and optionally
 * `src/cli/bot.ts`, on a fresh database and queue prefix, sending to the fake Bot API in a process
 * of its own (Telegram's limits: 30 messages/s, 1/s per chat). Default settings, LOG_LEVEL
 * included (info: logs go to the children's stdout, which is discarded). The bench process only
 * drives load and observes.
 */
export interface BenchSystem {
  baseUrl: string;
  prefix: string;
  env: Record<string, string>;
  web: ChildProcess;
  workers: ChildProcess[];
  bot: ChildProcess | undefined;
  /** A small pg pool on the system's database, for seeding and observing. */
  pool: pg.Pool;
  /** Number of messages the fake Bot API has recorded, and its 429s. */
  telegramState(): Promise<{ sent: number; rateLimitHits: number }>;
  /** Pids of the project's processes by role: web, worker-1…, bot. */
  pids(): Record<string, number>;
  /** Each Node process's Prometheus endpoint (METRICS_TOKEN is BENCH_METRICS_TOKEN); the bot has none. */
  metricsUrls(): Record<string, string>;
  /** Pids of the PostgreSQL backends connected to this system's database right now. */
  postgresPids(): Promise<number[]>;
  stop(): Promise<void>;
}

export const BENCH_METRICS_TOKEN = 'bench-metrics-token';

/** V8's used heap of a process, in MiB, from its /metrics (prom-client's default metrics). */
export async function heapUsedMiB(metricsUrl: string): Promise<number> {
  try {
    const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${BENCH_METRICS_TOKEN}` } });
    const text = await res.text();
    return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN) / 1024 / 1024;
  } catch {
    return Number.NaN; // not listening yet (a worker still booting): a gap in the series
  }
}

export async function startBenchSystem(options: {
  workers: number;
  bot?: boolean;
  env?: Record<string, string>;
}): Promise<BenchSystem> {
  const db = await createTestDatabase();
  const telegram = await startFakeTelegramProcess();
  const prefix = uniquePrefix('bench');
  const port = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_MINI_APP_URL: 'https://coach.example/app',
    // Explicit, so an OPENAI_API_KEY in the caller's environment cannot turn this into an AI bench.
    AI_PROVIDER: 'offline',
    // Each worker gets a port of its own below (WORKER_METRICS_PORT); scrapes need this token.
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    ...options.env,
  };
  const children: ChildProcess[] = [];
  const pool = new pg.Pool({ connectionString: db.url, max: 3 });
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopping = false;
  const stop = async () => {
    await Promise.all(children.map((child) => stopChild(child)));
    await telegram.stop();
    await pool.end();
    await removeKeys(prefix);
    await db.drop();
  };
  try {
    const web = spawnCli('web', env);
    children.push(web);
    await waitForHttp(`${baseUrl}/healthz`, web);
    const workerPorts: number[] = [];
    for (let i = 0; i < options.workers; i++) workerPorts.push(await freePort());
    const workers = workerPorts.map((metricsPort) =>
      spawnCli('worker', { ...env, WORKER_METRICS_PORT: String(metricsPort) }),
    );
    children.push(...workers);
    const bot = options.bot ? spawnCli('bot', env) : undefined;
    if (bot) children.push(bot);
    for (const child of children) {
      child.once('exit', (code, signal) => {
        if (!stopping) process.stderr.write(`\n  a system process exited early (${code ?? signal})\n`);
      });
    }
    return {
      baseUrl,
      prefix,
      env,
      web,
      workers,
      bot,
      pool,
      async telegramState() {
        const state = await telegram.state();
        return { sent: state.sentMessages.length, rateLimitHits: state.rateLimitHits };
      },
      pids() {
        const pids: Record<string, number> = { web: web.pid! };
        workers.forEach((worker, i) => {
          pids[`worker-${i + 1}`] = worker.pid!;
        });
        if (bot) pids.bot = bot.pid!;
        return pids;
      },
      metricsUrls() {
        const urls: Record<string, string> = { web: `${baseUrl}/metrics` };
        workerPorts.forEach((metricsPort, i) => {
          urls[`worker-${i + 1}`] = `http://127.0.0.1:${metricsPort}/metrics`;
        });
        return urls;
      },
      async postgresPids() {
        const { rows } = await pool.query(
          'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
        );
        return rows.map((row) => Number(row.pid));
      },
      async stop() {
        stopping = true;
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * N distinct clients (every survey must be a different user: quotas are per user), inserted with
 * the profile the auth step writes and `last_seen_at` now, so no request upserts its user: one
 * real GET /api/me creates the first, the rest copy it. Returns their Authorization headers.
 */
export async function seedClients(
  system: BenchSystem,
  firstTelegramId: number,
  count: number,
): Promise<(i: number) => string> {
  const header = (i: number) => authHeader({ id: firstTelegramId + i });
  const me = await fetch(`${system.baseUrl}/api/me`, { headers: { authorization: header(0) } });
  if (me.status !== 200) throw new Error(`GET /api/me answered ${me.status}`);
  await system.pool.query(
    `insert into telegram_user (id, tenant_id, telegram_id, first_name, last_name, username, language_code,
       is_premium, last_seen_at, created_at, updated_at)
     select gen_random_uuid(), u.tenant_id, u.telegram_id + g, u.first_name, u.last_name, u.username,
       u.language_code, u.is_premium, now(), now(), now()
     from telegram_user u, generate_series(1, $3::int - 1) g
     where u.tenant_id = $1 and u.telegram_id = $2
     on conflict (tenant_id, telegram_id) do nothing`,
    [DEFAULT_TENANT_ID, firstTelegramId, count],
  );
  return header;
}
