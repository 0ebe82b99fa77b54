import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  defaultJobOptions,
  JOB_QUEUES,
  type JobName,
  QUEUE_NAMES,
  type QueueName,
} from './queue-catalogue.ts';

export type Queues = Record<QueueName, Queue>;

export function createQueues(connection: Redis, prefix: string, planAttempts: number): Queues {
  const entries = QUEUE_NAMES.map((name) => {
    const queue = new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: defaultJobOptions(name, planAttempts),
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

export interface JobToAdd {
  name: JobName;
  jobId: string;
  data: Record<string, unknown>;
}

/** Adds jobs grouped by queue; stable job ids make a repeated add a no-op in BullMQ. */
export async function addJobs(queues: Queues, jobs: JobToAdd[]): Promise<void> {
  const byQueue = new Map<QueueName, JobToAdd[]>();
  for (const job of jobs) {
    const queue = JOB_QUEUES[job.name];
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), job]);
  }
  await Promise.all(
    [...byQueue].map(([queue, items]) =>
      queues[queue].addBulk(
        items.map((job) => ({ name: job.name, data: job.data, opts: { jobId: job.jobId } })),
      ),
    ),
  );
}
