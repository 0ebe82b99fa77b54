import type { DefaultJobOptions } from 'bullmq';
import type { QueueName } from '../config/env.ts';

export type { QueueName };

/** Every job name the system knows, with the queue it travels on. */
export const JOB_QUEUES = {
  'plans.generate': 'plans',
  'notifications.send': 'notifications',
  'notifications.broadcast': 'notifications',
  'metrics.recompute': 'metrics',
} as const satisfies Record<string, QueueName>;

export type JobName = keyof typeof JOB_QUEUES;
export const QUEUE_NAMES: QueueName[] = ['plans', 'notifications', 'metrics'];

/**
 * Retries live here and only here. `custom` backoff lets a job ask for a specific delay
 * (e.g. an upstream Retry-After) while defaulting to exponential growth.
 */
export function defaultJobOptions(queue: QueueName, planAttempts: number): DefaultJobOptions {
  const common: DefaultJobOptions = {
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
    backoff: { type: 'custom' },
  };
  switch (queue) {
    case 'plans':
      return { ...common, attempts: planAttempts };
    case 'notifications':
      return { ...common, attempts: 8 };
    case 'metrics':
      // A snapshot is recomputed every few minutes anyway: a few retries, short retention.
      return {
        ...common,
        attempts: 3,
        removeOnComplete: { age: 3600, count: 1_000 },
        removeOnFail: { age: 24 * 3600 },
      };
  }
}

/** Exponential backoff with full jitter, capped; a RetryAfterError's own delay wins when longer. */
export function backoffDelayMs(attemptsMade: number, error?: Error, baseMs = 1_000): number {
  const base = Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), 5 * 60_000);
  const jittered = Math.round(base / 2 + Math.random() * (base / 2));
  const requested = error instanceof RetryAfterError ? error.retryAfterMs : 0;
  return Math.max(jittered, requested);
}

/** A failure that should be retried no sooner than retryAfterMs; counts as an attempt. */
export class RetryAfterError extends Error {
  override name = 'RetryAfterError';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}
