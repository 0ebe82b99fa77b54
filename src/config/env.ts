import { z } from 'zod';
import { type RedisClusterTarget, redisClusterNodes } from './redis-cluster.ts';

/** Thrown when the environment cannot be turned into a Config; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  );

const telegramIdList = csv.pipe(z.array(z.string().regex(/^\d{1,20}$/, 'must be numeric Telegram ids')));
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));
const int = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const hexKey = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalText.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_REPLICA_URLS: csv,
  DATABASE_POOL_MAX: int(10, 1, 200),
  REDIS_URL: optionalText.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  // Cluster mode (docs/operations.md, "Running on Redis Cluster"): seed nodes instead of REDIS_URL.
  REDIS_CLUSTER_NODES: redisClusterNodes,
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/)
    .default('coach'),
  TELEGRAM_BOT_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, 'must look like 123456:ABC-DEF... (from @BotFather)')
      .optional(),
  ),
  TELEGRAM_API_ROOT: z.url().default('https://api.telegram.org'),
  // The bot's @username without the @ (the panel's Telegram Login Widget needs it; BotFather: /setdomain).
  TELEGRAM_BOT_USERNAME: optionalText.pipe(
    z
      .string()
      .regex(/^@?[A-Za-z][A-Za-z0-9_]{3,31}$/, 'must be the bot username, e.g. coach_anna_bot')
      .transform((value) => value.replace(/^@/, ''))
      .optional(),
  ),
  TELEGRAM_MINI_APP_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  TELEGRAM_PANEL_URL: optionalText.pipe(z.url({ protocol: /^https?$/ }).optional()),
  TELEGRAM_WEBHOOK_URL: optionalText.pipe(z.url().optional()),
  // Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - (setWebhook `secret_token`).
  TELEGRAM_WEBHOOK_SECRET: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, 'must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram rule)')
      .optional(),
  ),
  TELEGRAM_ADMINS: telegramIdList,
  TELEGRAM_BOT_API_SECRET: csv,
  BOT_API_ALLOWED_IPS: csv,
  // How many reverse proxies in front of us append to X-Forwarded-For: true = 1; false/0 = none.
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value) => value?.trim().toLowerCase() ?? '')
    .pipe(
      z
        .string()
        .regex(/^(true|false|\d{1,2})?$/, 'must be true, false or the number of proxy hops (0-10)')
        .transform((value) => (value === 'true' ? 1 : value === 'false' || value === '' ? 0 : Number(value)))
        .pipe(z.number().int().min(0, 'must be 0-10').max(10, 'must be 0-10')),
    ),
  BOT_API_RATE_LIMIT_PER_MINUTE: int(600, 1, 1_000_000),
  TELEGRAM_WEBHOOK_MAX_CONNECTIONS: int(40, 1, 100),
  INITDATA_MAX_AGE_SECONDS: int(86_400, 1, 31 * 86_400),
  PANEL_LOGIN_MAX_AGE_SECONDS: int(3_600, 10, 86_400),
  PANEL_SESSION_TTL_SECONDS: int(43_200, 60, 31 * 86_400),
  PANEL_LOGIN_RATE_LIMIT_PER_MINUTE: int(20, 1, 1_000_000),
  TELEGRAM_MESSAGES_PER_SECOND: int(30, 1, 1000),
  TELEGRAM_TIMEOUT_MS: int(10_000, 100, 120_000),
  AI_PROVIDER: z.enum(['openai', 'offline']).optional(),
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalText.pipe(z.url().optional()),
  OPENAI_MODEL: z.string().default('gpt-4o-mini'),
  AI_TIMEOUT_MS: int(60_000, 100, 600_000),
  AI_REQUESTS_PER_MINUTE: int(60, 1, 100_000),
  /** Per tenant, on top of the global budget; a tenant's own row may set its own. */
  AI_TENANT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).optional(),
  AI_TENANT_PLANS_PER_DAY: int(10_000, 1, 10_000_000),
  /** 32 random bytes as 64 hex characters; seals tenants' bot tokens and webhook secrets. */
  TENANT_SECRET_KEY: optionalText.pipe(hexKey.optional()),
  /** Keys being rotated out: they still open what they sealed, nothing new is sealed with them. */
  TENANT_SECRET_KEY_PREVIOUS: csv.pipe(z.array(hexKey)),
  /** How stale a process's view of the tenant table may get (a new tenant is seen at once anyway). */
  TENANT_CACHE_MS: int(10_000, 100, 600_000),
  PLAN_ATTEMPTS: int(5, 1, 20),
  PLAN_WORKER_CONCURRENCY: int(4, 1, 100),
  NOTIFICATION_WORKER_CONCURRENCY: int(4, 1, 200),
  PLANS_PER_USER_PER_DAY: int(3, 1, 1000),
  // Checked against the job catalogue by the worker process (workerQueues), which owns the names.
  WORKER_QUEUES: csv.pipe(
    z.array(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'queue names are lower-case words')),
  ),
  METRICS_INTERVAL_MS: int(300_000, 1_000, 24 * 3_600_000),
  OUTBOX_POLL_MS: int(1000, 10, 60_000),
  WORKER_LOCK_MS: int(30_000, 500, 600_000),
  WORKER_STALLED_INTERVAL_MS: int(30_000, 500, 600_000),
  JOB_BACKOFF_BASE_MS: int(1_000, 10, 600_000),
  RECONCILE_INTERVAL_MS: int(60_000, 100, 3_600_000),
  STALE_WORK_MS: int(15 * 60_000, 100, 24 * 3_600_000),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 100, 600_000),
  BILLING_PROVIDER: z.enum(['stars', 'http']).default('stars'),
  BILLING_URL: optionalText.pipe(z.url().optional()),
  BILLING_API_KEY: optionalText,
  BILLING_WEBHOOK_SECRET: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  BILLING_TIMEOUT_MS: int(10_000, 10, 120_000),
  BILLING_SYNC_INTERVAL_MS: int(900_000, 1_000, 24 * 3_600_000),
  BILLING_SYNC_TIMEOUT_MS: int(120_000, 100, 3_600_000),
  BILLING_BATCH_SIZE: int(500, 1, 10_000),
  BILLING_WEBHOOK_TOLERANCE_SECONDS: int(300, 1, 86_400),
  METRICS_TOKEN: optionalText,
  WORKER_METRICS_PORT: int(9464, 0, 65535),
  BULL_BOARD_USER: optionalText,
  BULL_BOARD_PASSWORD: optionalText,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  nodeEnv: Env['NODE_ENV'];
  /** trustedProxyHops: the last N X-Forwarded-For entries were added by our own proxies (0 = off). */
  http: { port: number; host: string; trustedProxyHops: number };
  database: { url: string | undefined; replicaUrls: string[]; poolMax: number };
  /** `cluster` is set in cluster mode (REDIS_CLUSTER_NODES); then `url` is undefined. */
  redis: { url: string | undefined; cluster?: RedisClusterTarget; queuePrefix: string };
  telegram: {
    botToken: string | undefined;
    /** TELEGRAM_BOT_USERNAME, for the panel's Login Widget; undefined when not configured. */
    botUsername: string | undefined;
    apiRoot: string;
    miniAppUrl: string | undefined;
    /** The trainer panel: TELEGRAM_PANEL_URL, else derived from the Mini App URL (panelUrlFrom). */
    panelUrl: string | undefined;
    webhookUrl: string | undefined;
    webhookSecret: string | undefined;
    admins: string[];
    botApiSecrets: string[];
    botApiAllowedIps: string[];
    botApiRateLimitPerMinute: number;
    webhookMaxConnections: number;
    initDataMaxAgeSeconds: number;
    messagesPerSecond: number;
    timeoutMs: number;
  };
  ai: {
    provider: 'openai' | 'offline';
    apiKey: string | undefined;
    baseUrl: string | undefined;
    model: string;
    timeoutMs: number;
    requestsPerMinute: number;
  };
  tenants: {
    /** TENANT_SECRET_KEY first (it seals), then TENANT_SECRET_KEY_PREVIOUS; empty when unset. */
    secretKeys: Buffer[];
    cacheMs: number;
    /** Defaults for a tenant whose row sets no budget of its own. */
    aiRequestsPerMinute: number;
    aiPlansPerDay: number;
  };
  /** The panel's browser login (Telegram Login Widget) and the session cookie it gets. */
  panelLogin: { maxAgeSeconds: number; sessionTtlSeconds: number; rateLimitPerMinute: number };
  plans: { attempts: number; workerConcurrency: number; perUserPerDay: number };
  notifications: { workerConcurrency: number };
  /** How often the job scheduler recomputes each tenant's panel metrics. */
  metrics: { intervalMs: number };
  worker: {
    /** Undefined: every queue of the catalogue. */
    queues: string[] | undefined;
    lockMs: number;
    stalledIntervalMs: number;
    reconcileIntervalMs: number;
    staleWorkMs: number;
    backoffBaseMs: number;
  };
  outbox: { pollMs: number };
  billing: {
    provider: 'stars' | 'http';
    /** http provider only. */
    url: string | undefined;
    apiKey: string | undefined;
    webhookSecret: string | undefined;
    /** One provider call (a Bot API page or a batch request). */
    timeoutMs: number;
    syncIntervalMs: number;
    /** A whole billing.sync run. */
    syncTimeoutMs: number;
    /** Users per http batch request. */
    batchSize: number;
    webhookToleranceSeconds: number;
  };
  shutdownTimeoutMs: number;
  observability: {
    metricsToken: string | undefined;
    workerMetricsPort: number;
    bullBoard: { user: string; password: string } | undefined;
  };
  logLevel: Env['LOG_LEVEL'];
}

/**
 * The panel is served beside the Mini App: `…/app/` becomes `…/panel/` (any prefix before it kept),
 * any other Mini App URL gives `<origin>/panel/`. Query and fragment are the Mini App's own, not kept.
 */
export function panelUrlFrom(miniAppUrl: string | undefined): string | undefined {
  if (!miniAppUrl) return undefined;
  const url = new URL(miniAppUrl);
  const match = /^(.*\/)app\/?$/.exec(url.pathname);
  return `${url.origin}${match ? match[1] : '/'}panel/`;
}

/** Parse the environment once at boot; throws ConfigError with one line naming the bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = issue.path.join('.') || 'environment';
    throw new ConfigError(`Invalid ${variable}: ${issue.message}`);
  }
  const env = parsed.data;
  if (env.AI_PROVIDER === 'openai' && !env.OPENAI_API_KEY) {
    throw new ConfigError('Invalid OPENAI_API_KEY: required when AI_PROVIDER=openai');
  }
  if (Boolean(env.BULL_BOARD_USER) !== Boolean(env.BULL_BOARD_PASSWORD)) {
    throw new ConfigError(
      'Invalid BULL_BOARD_PASSWORD: set both BULL_BOARD_USER and BULL_BOARD_PASSWORD, or neither',
    );
  }
  if (env.BILLING_PROVIDER === 'http' && !env.BILLING_URL) {
    throw new ConfigError('Invalid BILLING_URL: required when BILLING_PROVIDER=http');
  }
  if (env.TENANT_SECRET_KEY_PREVIOUS.length > 0 && !env.TENANT_SECRET_KEY) {
    throw new ConfigError('Invalid TENANT_SECRET_KEY: required when TENANT_SECRET_KEY_PREVIOUS is set');
  }
  if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      'Invalid REDIS_CLUSTER_NODES: set either REDIS_URL or REDIS_CLUSTER_NODES, not both',
    );
  }
  if (env.TELEGRAM_WEBHOOK_URL && !env.TELEGRAM_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_WEBHOOK_URL is set');
  }
  return {
    nodeEnv: env.NODE_ENV,
    http: {
      port: env.PORT,
      host: env.HOST,
      trustedProxyHops: env.TRUST_PROXY,
    },
    database: {
      url: env.DATABASE_URL,
      replicaUrls: env.DATABASE_REPLICA_URLS,
      poolMax: env.DATABASE_POOL_MAX,
    },
    redis: { url: env.REDIS_URL, cluster: env.REDIS_CLUSTER_NODES, queuePrefix: env.QUEUE_PREFIX },
    telegram: {
      botToken: env.TELEGRAM_BOT_TOKEN,
      botUsername: env.TELEGRAM_BOT_USERNAME,
      apiRoot: env.TELEGRAM_API_ROOT.replace(/\/+$/, ''),
      miniAppUrl: env.TELEGRAM_MINI_APP_URL,
      panelUrl: env.TELEGRAM_PANEL_URL ?? panelUrlFrom(env.TELEGRAM_MINI_APP_URL),
      webhookUrl: env.TELEGRAM_WEBHOOK_URL,
      webhookSecret: env.TELEGRAM_WEBHOOK_SECRET,
      admins: env.TELEGRAM_ADMINS,
      botApiSecrets: env.TELEGRAM_BOT_API_SECRET,
      botApiAllowedIps: env.BOT_API_ALLOWED_IPS,
      botApiRateLimitPerMinute: env.BOT_API_RATE_LIMIT_PER_MINUTE,
      webhookMaxConnections: env.TELEGRAM_WEBHOOK_MAX_CONNECTIONS,
      initDataMaxAgeSeconds: env.INITDATA_MAX_AGE_SECONDS,
      messagesPerSecond: env.TELEGRAM_MESSAGES_PER_SECOND,
      timeoutMs: env.TELEGRAM_TIMEOUT_MS,
    },
    ai: {
      provider: env.AI_PROVIDER ?? (env.OPENAI_API_KEY ? 'openai' : 'offline'),
      apiKey: env.OPENAI_API_KEY,
      baseUrl: env.OPENAI_BASE_URL,
      model: env.OPENAI_MODEL,
      timeoutMs: env.AI_TIMEOUT_MS,
      requestsPerMinute: env.AI_REQUESTS_PER_MINUTE,
    },
    tenants: {
      secretKeys: [env.TENANT_SECRET_KEY, ...env.TENANT_SECRET_KEY_PREVIOUS]
        .filter((key): key is string => Boolean(key))
        .map((key) => Buffer.from(key, 'hex')),
      cacheMs: env.TENANT_CACHE_MS,
      aiRequestsPerMinute: env.AI_TENANT_REQUESTS_PER_MINUTE ?? env.AI_REQUESTS_PER_MINUTE,
      aiPlansPerDay: env.AI_TENANT_PLANS_PER_DAY,
    },
    panelLogin: {
      maxAgeSeconds: env.PANEL_LOGIN_MAX_AGE_SECONDS,
      sessionTtlSeconds: env.PANEL_SESSION_TTL_SECONDS,
      rateLimitPerMinute: env.PANEL_LOGIN_RATE_LIMIT_PER_MINUTE,
    },
    plans: {
      attempts: env.PLAN_ATTEMPTS,
      workerConcurrency: env.PLAN_WORKER_CONCURRENCY,
      perUserPerDay: env.PLANS_PER_USER_PER_DAY,
    },
    notifications: { workerConcurrency: env.NOTIFICATION_WORKER_CONCURRENCY },
    metrics: { intervalMs: env.METRICS_INTERVAL_MS },
    worker: {
      queues: env.WORKER_QUEUES.length ? env.WORKER_QUEUES : undefined,
      lockMs: env.WORKER_LOCK_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      reconcileIntervalMs: env.RECONCILE_INTERVAL_MS,
      staleWorkMs: env.STALE_WORK_MS,
      backoffBaseMs: env.JOB_BACKOFF_BASE_MS,
    },
    outbox: { pollMs: env.OUTBOX_POLL_MS },
    billing: {
      provider: env.BILLING_PROVIDER,
      url: env.BILLING_URL?.replace(/\/+$/, ''),
      apiKey: env.BILLING_API_KEY,
      webhookSecret: env.BILLING_WEBHOOK_SECRET,
      timeoutMs: env.BILLING_TIMEOUT_MS,
      syncIntervalMs: env.BILLING_SYNC_INTERVAL_MS,
      syncTimeoutMs: env.BILLING_SYNC_TIMEOUT_MS,
      batchSize: env.BILLING_BATCH_SIZE,
      webhookToleranceSeconds: env.BILLING_WEBHOOK_TOLERANCE_SECONDS,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    observability: {
      metricsToken: env.METRICS_TOKEN,
      workerMetricsPort: env.WORKER_METRICS_PORT,
      bullBoard:
        env.BULL_BOARD_USER && env.BULL_BOARD_PASSWORD
          ? { user: env.BULL_BOARD_USER, password: env.BULL_BOARD_PASSWORD }
          : undefined,
    },
    logLevel: env.LOG_LEVEL,
  };
}
