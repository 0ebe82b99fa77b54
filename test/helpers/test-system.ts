import type { MikroORM } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import type pino from 'pino';
import { createPlanProvider } from '../../src/ai/create-plan-provider.ts';
import { type Config, loadConfig } from '../../src/config/env.ts';
import { createLogger, type Logger } from '../../src/config/logger.ts';
import { createOrm, forkForTenant } from '../../src/db/orm.ts';
import { type FakeTelegramBotApi, startFakeTelegramBotApi } from '../../src/dev/fake-telegram-bot-api.ts';
import { startFakeTelegramFleet } from '../../src/dev/fake-telegram-fleet.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { createWebProcess } from '../../src/processes/web-process.ts';
import type { JobCatalogue } from '../../src/queue/job-catalogue.ts';
import { createTenant } from '../../src/tenants/tenant-admin.ts';
import { secretBoxOf, type TenantDirectory } from '../../src/tenants/tenant-directory.ts';
import type { Handlers } from '../../workers/job-runner.ts';
import { createWorkerProcess } from '../../workers/worker-process.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../fakes/fake-openai-server.ts';
import { authHeader, TEST_BOT_TOKEN, type TestUser, validAnswers } from './init-data.ts';
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase, uniquePrefix } from './test-database.ts';

export interface TestSystemOptions {
  env?: Record<string, string>;
  /** Use the fake OpenAI (AI_PROVIDER=openai) instead of the offline generator. */
  openai?: boolean;
  /** Start an in-process worker (default true). */
  worker?: boolean;
  /** Redis URL the web process uses (e.g. a proxy that a test can cut). */
  webRedisUrl?: string;
  /** Redis URL the in-process worker uses; a test cutting Redis for the whole system sets both. */
  workerRedisUrl?: string;
  /** REDIS_CLUSTER_NODES: the whole system runs on this Redis Cluster instead of TEST_REDIS_URL. */
  redisCluster?: string;
  telegramLimits?: { globalPerSecond?: number; perChatPerSecond?: number };
  /** Rewrites the database URL the system uses (e.g. to go through a proxy a test can cut). */
  systemDatabaseUrl?: (url: string) => string;
  /** DATABASE_REPLICA_URLS from the test database URL (e.g. the same database through a proxy). */
  replicaUrls?: (url: string) => string[];
  /** A catalogue with extra jobs and their handlers, for the in-process worker. */
  jobs?: { catalogue: JobCatalogue; handlers: Handlers };
  /**
   * More coaches beside the default tenant, each with its own bot on its own fake Bot API behind
   * one TELEGRAM_API_ROOT (src/dev/fake-telegram-fleet.ts). Created before the processes start.
   */
  tenants?: Array<{ slug: string; name?: string; aiRequestsPerMinute?: number; aiPlansPerDay?: number }>;
}

/** A tenant a test system created: its ids, its bot's token and fake, and its own bot API secret. */
export interface TestTenant {
  id: string;
  slug: string;
  botToken: string;
  botApiSecret: string;
  telegram: FakeTelegramBotApi;
  /** `Authorization: tma …` signed by this tenant's bot. */
  authHeader(user: TestUser, options?: Parameters<typeof authHeader>[1]): string;
}

/** Seals tenants' bot tokens in every test system (a fixed key: test data only). */
export const TEST_TENANT_SECRET_KEY = 'a1'.repeat(32);

export interface TestSystem {
  baseUrl: string;
  config: Config;
  orm: MikroORM;
  db: TestDatabase;
  /** The default tenant's fake Bot API. */
  telegram: FakeTelegramBotApi;
  /** The tenants of `options.tenants`, by slug. */
  tenants: Record<string, TestTenant>;
  /** The web process's view of the tenant table, for apps and servers a test builds itself. */
  tenantDirectory: TenantDirectory;
  openai: FakeOpenAi | undefined;
  logs: string[];
  /** The system's logger (its lines land in `logs`), for domain calls a test makes directly. */
  logger: Logger;
  metrics: Metrics;
  /** The in-process worker, when started. */
  worker: ReturnType<typeof createWorkerProcess> | undefined;
  /** Environment for a child process (e.g. `src/cli/worker.ts`) joining this system. */
  childEnv: Record<string, string>;
  em(): ReturnType<typeof forkForTenant>;
  request(path: string, init?: RequestInit & { auth?: string }): Promise<Response>;
  /** POST /api/surveys as this Telegram user with valid answers; the 202 body. */
  submitSurvey(
    telegramId: number,
    user?: Omit<TestUser, 'id'>,
  ): Promise<{ plan: { id: string }; applicationId: string }>;
  /** Another web process on the same database, Redis and queue prefix; stopped with the system. */
  startWebProcess(): Promise<{ baseUrl: string; web: ReturnType<typeof createWebProcess> }>;
  stop(): Promise<void>;
}

/**
 * Captures log lines in memory so tests can assert on events and on what never gets logged. At
 * LOG_LEVEL (debug unless options.env sets it): benchmarks ask for warn, as production would run.
 */
function memoryLogger(lines: string[], level: string): Logger {
  return createLogger(level, {
    write(line: string) {
      lines.push(line);
    },
  } as pino.DestinationStream);
}

/** A real system: own database, own queue prefix, real Redis, fake Telegram and OpenAI servers. */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  const db = await createTestDatabase();
  const fleet = options.tenants?.length
    ? await startFakeTelegramFleet([{ token: TEST_BOT_TOKEN, ...options.telegramLimits }])
    : undefined;
  const telegram =
    fleet?.bot(TEST_BOT_TOKEN) ??
    (await startFakeTelegramBotApi({ token: TEST_BOT_TOKEN, ...options.telegramLimits }));
  const openai = options.openai ? await startFakeOpenAi() : undefined;
  const childEnv: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    ...(options.redisCluster ? { REDIS_CLUSTER_NODES: options.redisCluster } : { REDIS_URL: TEST_REDIS_URL }),
    QUEUE_PREFIX: uniquePrefix('q'),
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: fleet?.apiRoot ?? telegram.apiRoot,
    TENANT_SECRET_KEY: TEST_TENANT_SECRET_KEY,
    TELEGRAM_MINI_APP_URL: 'https://coach.example/app',
    // Generous, so a loaded CI machine never times out a request; tests of timeouts set their own.
    TELEGRAM_TIMEOUT_MS: '10000',
    OUTBOX_POLL_MS: '100',
    PLAN_ATTEMPTS: '3',
    LOG_LEVEL: 'debug',
    // Child worker processes of one test would all want the default port.
    WORKER_METRICS_PORT: '0',
    ...(options.replicaUrls ? { DATABASE_REPLICA_URLS: options.replicaUrls(db.url).join(',') } : {}),
    ...(openai
      ? {
          AI_PROVIDER: 'openai',
          OPENAI_API_KEY: 'sk-test-secret-key',
          OPENAI_BASE_URL: openai.baseUrl,
          AI_TIMEOUT_MS: '5000',
        }
      : {}),
    ...options.env,
  };
  const config = loadConfig(childEnv);
  const redisTarget = config.redis.cluster ?? TEST_REDIS_URL;
  const logs: string[] = [];
  const logger = memoryLogger(logs, config.logLevel);
  const orm = await createOrm({
    url: options.systemDatabaseUrl?.(db.url) ?? db.url,
    replicaUrls: config.database.replicaUrls,
    poolMax: 10,
  });
  // Tests read and assert through their own connection, which no simulated outage touches.
  const assertOrm = options.systemDatabaseUrl ? await createOrm({ url: db.url, poolMax: 2 }) : orm;
  const tenants: Record<string, TestTenant> = {};
  for (const [index, spec] of (options.tenants ?? []).entries()) {
    const botToken = `${2000000001 + index}:AAFakeTenantToken${spec.slug.replace(/[^A-Za-z0-9]/g, '')}Bot`;
    const fakeBot = await fleet!.addBot(botToken, options.telegramLimits);
    const created = await createTenant(assertOrm, secretBoxOf(config), {
      slug: spec.slug,
      name: spec.name ?? `Coach ${spec.slug}`,
      botToken,
      botUsername: `${spec.slug.replace(/-/g, '_')}_coach_bot`,
      aiRequestsPerMinute: spec.aiRequestsPerMinute,
      aiPlansPerDay: spec.aiPlansPerDay,
    });
    tenants[spec.slug] = {
      ...created,
      botToken,
      telegram: fakeBot,
      authHeader: (user, signOptions) => authHeader(user, { token: botToken, ...signOptions }),
    };
  }

  // Web and in-process worker share one registry, as in `npm start`.
  const metrics = createMetrics();
  const worker =
    options.worker === false
      ? undefined
      : createWorkerProcess({
          config,
          orm,
          logger,
          metrics,
          serveMetrics: false,
          redisTarget: options.workerRedisUrl ?? redisTarget,
          ...options.jobs,
          planProvider: createPlanProvider(config.ai),
          // Every tenant's bot (TELEGRAM_API_ROOT is the fake, or the fleet when there are tenants).
        });
  await worker?.start();
  const web = createWebProcess({
    config,
    orm,
    logger,
    metrics,
    redisTarget: options.webRedisUrl ?? redisTarget,
    // Every relay knows the test's extra jobs, as every process of one release knows its jobs.
    catalogue: options.jobs?.catalogue,
  });
  await web.start();
  const baseUrl = `http://127.0.0.1:${web.port()}`;
  const extraWebs: ReturnType<typeof createWebProcess>[] = [];

  return {
    baseUrl,
    config,
    orm,
    db,
    telegram,
    tenants,
    tenantDirectory: web.tenants,
    openai,
    logs,
    logger,
    metrics,
    worker,
    childEnv,
    em: () => forkForTenant(assertOrm),
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.auth) headers.set('authorization', init.auth);
      if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(`${baseUrl}${path}`, { ...init, headers });
    },
    async submitSurvey(telegramId, user = {}) {
      const response = await fetch(`${baseUrl}/api/surveys`, {
        headers: {
          authorization: authHeader({ id: telegramId, ...user }),
          'content-type': 'application/json',
        },
        method: 'POST',
        body: JSON.stringify({ answers: validAnswers }),
      });
      if (response.status !== 202)
        throw new Error(`survey not accepted: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async startWebProcess() {
      const extra = createWebProcess({
        config,
        orm,
        logger,
        metrics: createMetrics(),
        redisTarget: redisTarget,
        catalogue: options.jobs?.catalogue,
      });
      extraWebs.push(extra);
      await extra.start();
      return { baseUrl: `http://127.0.0.1:${extra.port()}`, web: extra };
    },
    async stop() {
      await Promise.all(extraWebs.map((extra) => extra.stop()));
      await worker?.stop();
      await web.stop();
      // Remove this file's queues and everything else of its prefix from the shared Redis.
      // (A test's own cluster is thrown away whole.)
      if (!config.redis.cluster) await removeRedisKeys(config.redis.queuePrefix);
      await orm.close();
      if (assertOrm !== orm) await assertOrm.close();
      await (fleet ?? telegram).close();
      await openai?.close();
      await db.drop();
    },
  };
}

/** Everything this system left in the shared Redis (queues, pacer, locks, caches), best effort. */
async function removeRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch {
    // A test that cut Redis may end before it is back; leftovers only cost memory.
  } finally {
    redis.disconnect();
  }
}
