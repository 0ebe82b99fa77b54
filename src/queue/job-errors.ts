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
  readonly pauseMs: number;
  constructor(pauseMs: number) {
    super(`queue paused for ${pauseMs} ms`);
    this.pauseMs = pauseMs;
  }
}

/** Run again after `delayMs` without spending an attempt (waiting for a slot, a lock, a time). */
export class JobDelayedError extends Error {
  override name = 'JobDelayedError';
  readonly delayMs: number;
  readonly data?: Record<string, unknown>;
  constructor(delayMs: number, data?: Record<string, unknown>) {
    super(`delayed ${delayMs} ms`);
    this.delayMs = delayMs;
    this.data = data;
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
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}
