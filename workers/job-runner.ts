import { DelayedError, type Job, type Queue, UnrecoverableError, Worker } from 'bullmq';
import type { JobContext, JobDeps, JobHandler } from '../jobs/job-definition.ts';
import { isDependencyDown, isTransientConflict } from '../src/db/dependency-errors.ts';
import type { JobCatalogue } from '../src/queue/job-catalogue.ts';
import {
  JobDelayedError,
  JobFailedError,
  JobRateLimitedError,
  RetryAfterError,
} from '../src/queue/job-errors.ts';

export type Handlers = Record<string, JobHandler<never>>;

/** Where in a job's data the runner remembers when its dependency outage began. */
const OUTAGE_SINCE = 'dependencyOutageSince';

export interface JobRunnerOptions {
  /**
   * How long a job waits out PostgreSQL or Redis being down before such failures spend its
   * attempts: an outage is the platform's problem, and must not use up retries meant for the AI.
   */
  dependencyOutageMs: number;
}

/** The job ran past its outage (it failed otherwise, or asked for a delay): a later one gets a full allowance. */
function endOutage(data: Record<string, unknown>): Record<string, unknown> {
  const { [OUTAGE_SINCE]: _over, ...rest } = data;
  return rest;
}

function context(job: Job, deps: JobDeps): JobContext {
  return {
    jobId: job.id ?? '',
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    log: deps.logger.child({ job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 }),
    retryAfter(ms, reason) {
      throw new RetryAfterError(reason, ms);
    },
    rateLimited(ms) {
      throw new JobRateLimitedError(ms);
    },
    delay(ms, data) {
      throw new JobDelayedError(ms, data);
    },
    fail(reason) {
      throw new JobFailedError(reason);
    },
  };
}

/**
 * Turns a BullMQ job into a handler call, and the handler's answer into BullMQ behaviour: the one
 * place that knows BullMQ's error classes. A payload that does not parse can never succeed, so it
 * fails without retries.
 */
export function createJobProcessor(
  catalogue: JobCatalogue,
  handlers: Handlers,
  deps: JobDeps,
  queue: Queue,
  options: JobRunnerOptions,
) {
  async function delay(job: Job, token: string | undefined, ms: number, data?: Record<string, unknown>) {
    if (data || job.data[OUTAGE_SINCE]) await job.updateData({ ...endOutage(job.data), ...data });
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  return async (job: Job, token?: string): Promise<void> => {
    const spec = catalogue[job.name];
    const handler = handlers[job.name];
    if (!spec || !handler) throw new UnrecoverableError(`no handler for job "${job.name}"`);
    const parsed = spec.payload.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid payload for ${job.name}: ${parsed.error.message}`);
    try {
      await handler.handle(parsed.data as never, deps, context(job, deps));
      if (job.data[OUTAGE_SINCE])
        deps.logger.info({ event: 'job_outage_over', jobId: job.id }, 'job ran again');
    } catch (error) {
      if (error instanceof JobFailedError) throw new UnrecoverableError(error.message);
      if (error instanceof JobRateLimitedError) {
        await queue.rateLimit(error.pauseMs);
        throw Worker.RateLimitError();
      }
      if (error instanceof JobDelayedError) return delay(job, token, error.delayMs, error.data);
      // Lost a deadlock or serialization race to another transaction: run again at once, no attempt spent.
      if (isTransientConflict(error)) {
        deps.logger.info(
          { event: 'job_transient_conflict', job: job.name, jobId: job.id },
          'retrying after a conflict',
        );
        return delay(
          job,
          token,
          100 + Math.round(Math.random() * 400),
          job.data[OUTAGE_SINCE] ? {} : undefined,
        );
      }
      if (isDependencyDown(error)) {
        const since = Number(job.data[OUTAGE_SINCE] ?? Date.now());
        const waited = Date.now() - since;
        if (waited < options.dependencyOutageMs) {
          deps.logger.warn(
            {
              event: 'job_dependency_down',
              job: job.name,
              jobId: job.id,
              waitedMs: waited,
              err: String(error),
            },
            'a dependency is down; the job waits without spending an attempt',
          );
          return delay(job, token, Math.min(1_000 + waited / 2, 10_000), { [OUTAGE_SINCE]: since });
        }
      } else if (job.data[OUTAGE_SINCE]) {
        await job.updateData(endOutage(job.data));
      }
      throw error;
    }
  };
}

/** Called on every `failed` event; runs the job's final-failure hook only once BullMQ has given up. */
export function createFinalFailureHandler(catalogue: JobCatalogue, handlers: Handlers, deps: JobDeps) {
  return async (job: Job | undefined, error: Error): Promise<void> => {
    if (!job) return;
    const handler = handlers[job.name];
    const spec = catalogue[job.name];
    if (!handler?.onFinalFailure || !spec) return;
    if ((await job.getState()) !== 'failed') return;
    const parsed = spec.payload.safeParse(job.data);
    if (!parsed.success) return;
    // Handlers know our error classes, not BullMQ's: "failed for good" arrives as JobFailedError.
    const cause = error instanceof UnrecoverableError ? new JobFailedError(error.message) : error;
    await handler.onFinalFailure(parsed.data as never, deps, cause);
  };
}
