/**
 * How a handler tells the queue what to do with a job. Handlers throw these (through the job
 * context); workers/job-runner.ts is the one place that turns them into BullMQ behaviour.
 */

/** Retrying cannot fix it: fail now, run the job's final-failure transition. */
export class JobFailedError extends Error {
  override name = 'JobFailedError';
}

/** Every worker must slow down (an upstream said so): pause the queue; no attempt spent. */
export class JobRateLimitedError extends Error {
  override name = 'JobRateLimitedError';
  constructor(readonly pauseMs: number) {
    super(`queue paused for ${pauseMs} ms`);
  }
}

/** Run again after `delayMs` without spending an attempt (waiting for a slot, a lock, a time). */
export class JobDelayedError extends Error {
  override name = 'JobDelayedError';
  constructor(
    readonly delayMs: number,
    readonly data?: Record<string, unknown>,
  ) {
    super(`delayed ${delayMs} ms`);
  }
}

export { RetryAfterError } from './job-catalogue.ts';
