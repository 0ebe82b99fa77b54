import type { MikroORM } from '@mikro-orm/postgresql';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkHandlers, jobHandlers } from '../jobs/catalogue.ts';
import type { JobDeps } from '../jobs/job-definition.ts';
import type { PlanProvider } from '../src/ai/plan-provider.ts';
import { limitAiCalls } from '../src/ai/rate-limited-plan-provider.ts';
import { createTenantAiBudget } from '../src/ai/tenant-ai-budget.ts';
import { createBillingSyncDeps } from '../src/billing/billing-sync.ts';
import { type Config, ConfigError } from '../src/config/env.ts';
import type { Logger } from '../src/config/logger.ts';
import { createLiveEventPublisher, type ThrottledLiveEvents } from '../src/domain/live-events.ts';
import type { Metrics } from '../src/observability/metrics.ts';
import { createWorkerMetricsServer } from '../src/observability/worker-metrics-server.ts';
import {
  JOBS,
  type JobCatalogue,
  QUEUE_NAMES,
  QUEUES,
  type QueueName,
  type QueueSpec,
} from '../src/queue/job-catalogue.ts';
import { backoffDelayMs } from '../src/queue/job-errors.ts';
import { createOutboxRelay } from '../src/queue/outbox-relay.ts';
import { closeQueues, createQueues, queuePrefixOf } from '../src/queue/queues.ts';
import { createReconciler } from '../src/queue/reconciler.ts';
import { closeRedis, createRedisConnection, type RedisTarget } from '../src/queue/redis-connection.ts';
import { createTenantSchedulers } from '../src/queue/tenant-schedulers.ts';
import type { TelegramSender } from '../src/telegram/telegram-sender.ts';
import { createTenantDirectory, type TenantDirectory } from '../src/tenants/tenant-directory.ts';
import { createFinalFailureHandler, createJobProcessor, type Handlers } from './job-runner.ts';
import { createTenantBots } from './tenant-bots.ts';

export interface WorkerProcessDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  /** A Redis URL, or a cluster (REDIS_CLUSTER_NODES). */
  redisTarget: RedisTarget;
  metrics: Metrics;
  /** The AI (or offline) provider; the worker adds AI_REQUESTS_PER_MINUTE and tenant budgets. */
  planProvider: PlanProvider;
  /** The tenant table; default: the worker's own directory (reloaded every TENANT_CACHE_MS). */
  tenants?: TenantDirectory;
  /** Builds the sender of one tenant's bot; default: one to TELEGRAM_API_ROOT. */
  createSender?: (botToken: string) => TelegramSender;
  /** Serve /metrics on WORKER_METRICS_PORT (off when the web process in the same process serves it). */
  serveMetrics: boolean;
  /** The jobs and their handlers; the application's own unless a test adds some. */
  catalogue?: JobCatalogue;
  handlers?: Handlers;
}

/** How long a job waits out a PostgreSQL or Redis outage before failures spend its attempts. */
export const DEPENDENCY_OUTAGE_MS = 10 * 60_000;

/** WORKER_QUEUES names queues of the catalogue; anything else stops the boot with one line. */
export function workerQueues(config: Config): QueueName[] {
  const names = config.worker.queues ?? QUEUE_NAMES;
  const unknown = names.filter((name) => !(QUEUE_NAMES as string[]).includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `Invalid WORKER_QUEUES: unknown queue "${unknown.join('", "')}" (known: ${QUEUE_NAMES.join(', ')})`,
    );
  }
  return names as QueueName[];
}

/**
 * The worker process: one BullMQ Worker per selected queue, an outbox relay for the jobs that
 * handlers create, and the reconciler. Nothing starts until start(); stop() lets active jobs
 * finish (BullMQ's close waits for them) and then closes every connection.
 */
export function createWorkerProcess(deps: WorkerProcessDeps) {
  const { config, logger } = deps;
  const selectedQueues = workerQueues(config);
  const catalogue = deps.catalogue ?? JOBS;
  const handlers = deps.handlers ?? (jobHandlers as Handlers);
  checkHandlers(catalogue, handlers);
  const producer: Redis = createRedisConnection(deps.redisTarget, 'producer', 'worker-producer');
  const queues = createQueues(producer, config);
  const relay = createOutboxRelay({ orm: deps.orm, queues, logger, pollMs: config.outbox.pollMs, catalogue });
  const tenants = deps.tenants ?? createTenantDirectory({ orm: deps.orm, config, logger });
  const jobDeps: JobDeps = {
    orm: deps.orm,
    logger,
    // AI_REQUESTS_PER_MINUTE binds AI calls across every worker; offline plans pass unlimited.
    planProvider: limitAiCalls(deps.planProvider, {
      redis: producer,
      keyPrefix: config.redis.queuePrefix,
      requestsPerMinute: config.ai.requestsPerMinute,
    }),
    aiBudget: createTenantAiBudget({
      redis: producer,
      keyPrefix: config.redis.queuePrefix,
      registry: deps.metrics.registry,
    }),
    tenants,
    bots: createTenantBots({
      tenants,
      redis: producer,
      keyPrefix: config.redis.queuePrefix,
      config,
      ...(deps.createSender ? { createSender: deps.createSender } : {}),
    }),
    liveEvents: createThrottledLiveEvents(producer, config.redis.queuePrefix),
    redis: { client: producer, keyPrefix: config.redis.queuePrefix },
    metrics: deps.metrics,
    // Stars payments are each tenant's own bot's transactions.
    billing: createBillingSyncDeps(config, async (tenantId) => (await tenants.byId(tenantId))?.botToken),
  };
  const metricsServer = deps.serveMetrics
    ? createWorkerMetricsServer({
        metrics: deps.metrics,
        port: config.observability.workerMetricsPort,
        host: config.http.host,
        token: config.observability.metricsToken,
        logger,
      })
    : undefined;
  const observeJob = (queue: string, job: Job, outcome: 'completed' | 'failed') => {
    if (job.processedOn && job.finishedOn) {
      deps.metrics.jobDuration.observe(
        { queue, job: job.name, outcome },
        (job.finishedOn - job.processedOn) / 1000,
      );
    }
  };
  const onFailed = createFinalFailureHandler(catalogue, handlers, jobDeps);
  const connections: Redis[] = [producer];
  const workers = selectedQueues.map((queue) => {
    const connection = createRedisConnection(deps.redisTarget, 'worker', `worker-${queue}`);
    connections.push(connection);
    const processor = createJobProcessor(catalogue, handlers, jobDeps, queues[queue], {
      dependencyOutageMs: DEPENDENCY_OUTAGE_MS,
    });
    const spec: QueueSpec = QUEUES[queue];
    const worker = new Worker(queue, processor, {
      connection,
      prefix: queuePrefixOf(config.redis, queue),
      autorun: false,
      lockDuration: config.worker.lockMs,
      stalledInterval: config.worker.stalledIntervalMs,
      // After a Redis outage BullMQ waits this long before fetching again (default 15 s); users are
      // waiting for their plan message, so poll back sooner once Redis returns.
      runRetryDelay: 2_000,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) =>
          backoffDelayMs(attemptsMade, error, config.worker.backoffBaseMs),
      },
      concurrency: spec.concurrency(config),
      ...(spec.limiter ? { limiter: spec.limiter(config) } : {}),
    });
    worker.on('completed', (job: Job) => observeJob(queue, job, 'completed'));
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (job) observeJob(queue, job, 'failed');
      logger.warn(
        { event: 'job_failed', queue, job: job?.name, jobId: job?.id, err: error.message },
        'job attempt failed',
      );
      onFailed(job, error).catch((hookError) =>
        logger.error({ err: hookError }, 'final-failure hook failed'),
      );
    });
    worker.on('error', (error) => logger.warn({ queue, err: error.message }, 'worker connection error'));
    return worker;
  });
  const schedulers = createTenantSchedulers({
    orm: deps.orm,
    queues,
    queueNames: selectedQueues,
    catalogue,
    config,
    logger,
  });
  const reconciler = createReconciler({
    orm: deps.orm,
    queues,
    logger,
    intervalMs: config.worker.reconcileIntervalMs,
    staleMs: config.worker.staleWorkMs,
    catalogue,
    // The job's own final-failure transition, so work the reconciler gives up on ends the same way.
    finalFailure: async (name, payload, error) =>
      (await handlers[name]?.onFinalFailure?.(payload as never, jobDeps, error)) ?? false,
  });

  return {
    queues,
    relay,
    reconciler,
    schedulers,
    tenants,
    metricsServer,
    async start(): Promise<void> {
      await metricsServer?.start();
      relay.start();
      reconciler.start();
      for (const worker of workers) void worker.run();
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      await schedulers.start();
      logger.info({ queues: selectedQueues }, 'worker started');
    },
    async stop(): Promise<void> {
      schedulers.stop();
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all([relay.stop(), reconciler.stop()]);
      await closeQueues(queues);
      await Promise.all(connections.map((connection) => closeRedis(connection)));
      await metricsServer?.stop();
      logger.info('worker stopped');
    },
  };
}

/** Publishes on the producer connection; the throttle is a SET NX PX key shared by every worker. */
function createThrottledLiveEvents(redis: Redis, prefix: string): ThrottledLiveEvents {
  return {
    ...createLiveEventPublisher(redis, prefix),
    async throttle(key, ms) {
      // Redis down: skip the update rather than fail the job, since publishing would fail as well.
      const set = await redis.set(`${prefix}:live-throttle:${key}`, '1', 'PX', ms, 'NX').catch(() => null);
      return set === 'OK';
    },
  };
}
