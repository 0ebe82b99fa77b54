import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import { QUEUE_NAMES, QUEUES, type QueueName } from './job-catalogue.ts';

export type Queues = Record<QueueName, Queue>;

/** One producer Queue per catalogue queue, with the catalogue's default job options. */
export function createQueues(connection: Redis, config: Config): Queues {
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, {
      connection,
      prefix: config.redis.queuePrefix,
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
