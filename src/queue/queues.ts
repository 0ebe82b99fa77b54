import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import { QUEUE_NAMES, QUEUES, type QueueName } from './job-catalogue.ts';

export type Queues = Record<QueueName, Queue>;

/**
 * BullMQ's key prefix for one queue. On one Redis it is QUEUE_PREFIX, unchanged, so existing
 * deployments keep their queues. On a cluster BullMQ's scripts touch many keys of a queue at once,
 * which must share a hash slot; `{<prefix>:<queue>}` is a hash tag per queue, as BullMQ's cluster
 * guide recommends, so the queues spread over the shards instead of all landing on one. No script
 * spans two queues (no flows), so nothing needs two queues in one slot. Every Queue, Worker and
 * QueueEvents of a queue must use this.
 */
export function queuePrefixOf(redis: Config['redis'], queue: string): string {
  return redis.cluster ? `{${redis.queuePrefix}:${queue}}` : redis.queuePrefix;
}

/** One producer Queue per catalogue queue, with the catalogue's default job options. */
export function createQueues(connection: Redis, config: Config): Queues {
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, {
      connection,
      prefix: queuePrefixOf(config.redis, name),
      defaultJobOptions: QUEUES[name].jobOptions(config),
    });
    // Connection errors surface where jobs are added (the outbox relay logs and retries them);
    // without a listener BullMQ would print each reconnect attempt to stderr.
    queue.on('error', () => {});
    return [name, queue] as const;
  });
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
