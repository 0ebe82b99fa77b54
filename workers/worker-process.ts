import type { MikroORM } from '@mikro-orm/postgresql';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { buildJobCatalogue } from '../jobs/catalogue.ts';
import type { JobDeps, JobLiveEvents } from '../jobs/job-definition.ts';
import type { Config, QueueName } from '../src/config/env.ts';
import type { Logger } from '../src/config/logger.ts';
import { createLiveEventPublisher } from '../src/domain/live-events.ts';
import type { Metrics } from '../src/observability/metrics.ts';
import { createWorkerMetricsServer } from '../src/observability/worker-metrics-server.ts';
import { createMetricsSchedulers } from '../src/queue/metrics-schedulers.ts';
import { createOutboxRelay } from '../src/queue/outbox-relay.ts';
import { backoffDelayMs } from '../src/queue/queue-catalogue.ts';
import { closeQueues, createQueues } from '../src/queue/queues.ts';
import { createReconciler } from '../src/queue/reconciler.ts';
import { closeRedis, createRedisConnection } from '../src/queue/redis-connection.ts';
import { createSendPacer } from '../src/queue/send-pacer.ts';
import { createFinalFailureHandler, createJobProcessor } from './job-runner.ts';

export interface WorkerProcessDeps
  extends Omit<JobDeps, 'logger' | 'orm' | 'pacer' | 'onOutboxWritten' | 'liveEvents' | 'redis' | 'metrics'> {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  redisUrl: string;
  metrics: Metrics;
  /** Serve /metrics on WORKER_METRICS_PORT (off when the web process in the same process serves it). */
  serveMetrics: boolean;
}

/** Concurrency per process, and limits that BullMQ enforces across every worker of the queue. */
function queueLimits(config: Config, queue: QueueName) {
  switch (queue) {
    case 'plans':
      return {
        concurrency: config.plans.workerConcurrency,
        limiter: { max: config.ai.requestsPerMinute, duration: 60_000 },
      };
    case 'notifications':
      // The precise global and per-chat pacing is the SendPacer's; this coarse limiter only
      // exists so a Telegram 429 can pause fetching on every worker (queue.rateLimit needs one).
      return {
        concurrency: config.notifications.workerConcurrency,
        limiter: { max: config.telegram.messagesPerSecond * 10, duration: 1_000 },
      };
    case 'metrics':
      // Several tenants at once; one tenant at a time is the job's own per-tenant lock.
      return { concurrency: 2 };
  }
}

/**
 * The worker process: one BullMQ Worker per selected queue, an outbox relay for the jobs that
 * handlers create, and the reconciler. Nothing starts until start(); stop() lets active jobs
 * finish (BullMQ's close waits for them) and then closes every connection.
 */
export function createWorkerProcess(deps: WorkerProcessDeps) {
  const { config, logger } = deps;
  const catalogue = buildJobCatalogue();
  const producer: Redis = createRedisConnection(deps.redisUrl, 'producer', 'worker-producer');
  const queues = createQueues(producer, config.redis.queuePrefix, config.plans.attempts);
  const relay = createOutboxRelay({ orm: deps.orm, queues, logger, pollMs: config.outbox.pollMs });
  const jobDeps: JobDeps = {
    orm: deps.orm,
    logger,
    planProvider: deps.planProvider,
    telegram: deps.telegram,
    miniAppUrl: deps.miniAppUrl,
    pacer: createSendPacer({
      redis: producer,
      keyPrefix: config.redis.queuePrefix,
      messagesPerSecond: config.telegram.messagesPerSecond,
      requestTimeoutMs: config.telegram.timeoutMs,
    }),
    onOutboxWritten: () => relay.nudge(),
    liveEvents: createJobLiveEvents(producer, config.redis.queuePrefix),
    redis: { client: producer, keyPrefix: config.redis.queuePrefix },
    metrics: deps.metrics,
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
  const onFailed = createFinalFailureHandler(catalogue, jobDeps);
  const connections: Redis[] = [producer];
  const workers = config.worker.queues.map((queue) => {
    const connection = createRedisConnection(deps.redisUrl, 'worker', `worker-${queue}`);
    connections.push(connection);
    const worker = new Worker(queue, createJobProcessor(catalogue, jobDeps, queues[queue]), {
      connection,
      prefix: config.redis.queuePrefix,
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
      ...queueLimits(config, queue),
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
  const metricsSchedulers = config.worker.queues.includes('metrics')
    ? createMetricsSchedulers({
        orm: deps.orm,
        queue: queues.metrics,
        everyMs: config.metrics.intervalMs,
        logger,
      })
    : undefined;
  const reconciler = createReconciler({
    orm: deps.orm,
    queues,
    logger,
    intervalMs: config.worker.reconcileIntervalMs,
    staleMs: config.worker.staleWorkMs,
  });

  return {
    queues,
    relay,
    reconciler,
    metricsServer,
    async start(): Promise<void> {
      await metricsServer?.start();
      relay.start();
      reconciler.start();
      for (const worker of workers) void worker.run();
      await Promise.all(workers.map((worker) => worker.waitUntilReady()));
      await metricsSchedulers?.start();
      logger.info({ queues: config.worker.queues }, 'worker started');
    },
    async stop(): Promise<void> {
      metricsSchedulers?.stop();
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
function createJobLiveEvents(redis: Redis, prefix: string): JobLiveEvents {
  return {
    ...createLiveEventPublisher(redis, prefix),
    async throttle(key, ms) {
      // Redis down: skip the update rather than fail the job, since publishing would fail as well.
      const set = await redis.set(`${prefix}:live-throttle:${key}`, '1', 'PX', ms, 'NX').catch(() => null);
      return set === 'OK';
    },
  };
}
