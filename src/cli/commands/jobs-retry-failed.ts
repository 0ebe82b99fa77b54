import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../config/env.ts';
import {
  clusterNodeAuth,
  describeRedisTarget,
  type RedisTarget,
  redisTargetOf,
} from '../../config/redis-cluster.ts';
import { QUEUE_NAMES } from '../../queue/job-catalogue.ts';
import { queuePrefixOf } from '../../queue/queues.ts';
import { whereOf } from './cli-database.ts';
import { type CliCommand, optionalInteger, requiredString, UsageError } from './cli-kit.ts';

/** Failed jobs fetched per round; each round re-reads the failed set, which retrying shrinks. */
const BATCH = 100;

/** One attempt to connect, no endless reconnecting: an operator command should fail and say so. */
async function connectRedis(target: RedisTarget): Promise<Redis | Cluster> {
  const options = { connectTimeout: 3_000, maxRetriesPerRequest: 1, connectionName: 'operator-cli' };
  const redis =
    typeof target === 'string'
      ? new Redis(target, { ...options, lazyConnect: true, retryStrategy: () => null })
      : new Cluster(target.nodes, {
          lazyConnect: true,
          clusterRetryStrategy: () => null,
          redisOptions: {
            ...options,
            ...clusterNodeAuth(target),
          },
        });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    const where =
      typeof target === 'string'
        ? `${whereOf(target)} (REDIS_URL)`
        : `${describeRedisTarget(target)} (REDIS_CLUSTER_NODES)`;
    throw new Error(`Cannot reach Redis at ${where}: ${(error as Error).message}`);
  }
  return redis;
}

export const jobsRetryFailed: CliCommand = {
  name: 'jobs:retry-failed',
  summary: 'move the failed jobs of a queue back to waiting',
  help: `Usage: npm run cli -- jobs:retry-failed --queue <${QUEUE_NAMES.join('|')}> [--limit N]

Retries the failed jobs of one queue (after fixing what made them fail, e.g. an expired AI key),
oldest failure first, and prints how many. Retried jobs run again with a fresh attempt count.
Uses REDIS_URL (or REDIS_CLUSTER_NODES) and QUEUE_PREFIX like the worker.

Options:
  --queue <name>  ${QUEUE_NAMES.join(', ')}
  --limit <n>     retry at most n jobs (default: all)
  -h, --help      this help`,
  options: { queue: { type: 'string' }, limit: { type: 'string' } },
  async run(values, io) {
    const name = requiredString(values, 'queue');
    if (!(QUEUE_NAMES as string[]).includes(name)) {
      throw new UsageError(`unknown queue "${name}"; the queues are: ${QUEUE_NAMES.join(', ')}`);
    }
    const limit = optionalInteger(values, 'limit', 1, 1_000_000) ?? Number.POSITIVE_INFINITY;
    const config = loadConfig(io.env);
    const target = redisTargetOf(config.redis);
    if (!target) throw new ConfigError('Invalid REDIS_URL: required for jobs:retry-failed');
    const redis = await connectRedis(target);
    const queue = new Queue(name, { connection: redis, prefix: queuePrefixOf(config.redis, name) });
    queue.on('error', () => {});
    let retried = 0;
    let skipped = 0;
    const seen = new Set<string>();
    try {
      while (retried < limit) {
        const failed = (await queue.getFailed(0, BATCH - 1)).filter((job) => job?.id && !seen.has(job.id));
        if (failed.length === 0) break;
        for (const job of failed) {
          if (retried >= limit) break;
          seen.add(job.id!);
          try {
            await job.retry('failed');
            retried += 1;
          } catch {
            // Removed or retried by someone else meanwhile: nothing left to do for it.
            skipped += 1;
          }
        }
      }
      const left = await queue.getFailedCount();
      io.out(`Retried ${retried} failed job(s) of queue "${name}"; ${left} still failed.`);
      if (skipped > 0) io.err(`${skipped} job(s) changed meanwhile and were left alone.`);
      return 0;
    } finally {
      await queue.close().catch(() => {});
      redis.disconnect();
    }
  },
};
