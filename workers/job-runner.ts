import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { JobCatalogue } from '../jobs/catalogue.ts';
import type { JobDeps } from '../jobs/job-definition.ts';
import type { JobName } from '../src/queue/queue-catalogue.ts';

/**
 * Turns a BullMQ job into a handler call: looks the handler up, parses the payload (a payload that
 * does not parse can never succeed, so it fails without retries) and gives the handler its context.
 */
export function createJobProcessor(catalogue: JobCatalogue, deps: JobDeps, queue: Queue) {
  return async (job: Job, token?: string): Promise<void> => {
    const definition = catalogue.get(job.name as JobName);
    if (!definition) throw new UnrecoverableError(`no handler for job "${job.name}"`);
    const parsed = definition.payload.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`invalid payload for ${job.name}: ${parsed.error.message}`);
    const log = deps.logger.child({ job: job.name, jobId: job.id, attempt: job.attemptsMade + 1 });
    await definition.handle(parsed.data, deps, {
      jobId: job.id ?? '',
      attemptsMade: job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      log,
      pauseQueue: (ms) => queue.rateLimit(ms),
      async delay(delayMs, data) {
        if (data) await job.updateData({ ...job.data, ...data });
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      },
    });
  };
}

/** Called on every `failed` event; runs the job's final-failure hook only once BullMQ has given up. */
export function createFinalFailureHandler(catalogue: JobCatalogue, deps: JobDeps) {
  return async (job: Job | undefined, error: Error): Promise<void> => {
    if (!job) return;
    const definition = catalogue.get(job.name as JobName);
    if (!definition?.onFinalFailure) return;
    if ((await job.getState()) !== 'failed') return;
    const parsed = definition.payload.safeParse(job.data);
    if (!parsed.success) return;
    await definition.onFinalFailure(parsed.data, deps, error);
  };
}
