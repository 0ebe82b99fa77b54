import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../config/logger.ts';
import { JOBS, type JobCatalogue, jobOptionsOf } from './job-catalogue.ts';
import type { Queues } from './queues.ts';

export interface ReconcilerOptions {
  orm: MikroORM;
  queues: Queues;
  logger: Logger;
  intervalMs: number;
  staleMs: number;
  catalogue?: JobCatalogue;
  /** Runs a job's final-failure hook with the worker's deps; whether it changed anything. */
  finalFailure(name: string, payload: unknown, error: Error): Promise<boolean>;
}

/**
 * The safety net behind the outbox: if Redis lost a job (restart without AOF, flush, eviction),
 * unfinished work would wait forever. For every job of the catalogue that can name its stuck work
 * (`findStuck`), anything unfinished and untouched for `staleMs` whose job is gone is enqueued
 * again under its stable id; work whose job BullMQ already gave up on gets the job's own
 * final-failure transition, so it ends exactly as if the job had failed it.
 */
export function createReconciler(options: ReconcilerOptions) {
  const log = options.logger.child({ component: 'reconciler' });
  const catalogue: JobCatalogue = options.catalogue ?? JOBS;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;

  async function reconcileOnce(): Promise<{ requeued: number; failed: number }> {
    const em = options.orm.em.fork({ clear: true });
    const before = new Date(Date.now() - options.staleMs);
    let requeued = 0;
    let failed = 0;
    for (const [name, spec] of Object.entries(catalogue)) {
      if (!spec.findStuck) continue;
      const queue = options.queues[spec.queue];
      for (const payload of await spec.findStuck(em, before)) {
        const jobId = spec.jobId(payload);
        try {
          const job = await queue.getJob(jobId);
          if (!job) {
            await queue.add(name, payload, jobOptionsOf(spec, payload, jobId));
            requeued++;
          } else if ((await job.getState()) === 'failed') {
            // Gave up without the final-failure hook finishing (e.g. the database was down then).
            if (await options.finalFailure(name, payload, new Error(job.failedReason || 'interrupted')))
              failed++;
          }
        } catch (error) {
          // One item that cannot be settled now must not stop the pass; the next pass tries again.
          log.warn({ event: 'reconcile_item_failed', job: name, jobId, err: error }, 'could not reconcile');
        }
      }
    }
    // Published outbox rows are history; keep a week for investigations, then let them go.
    await em
      .getConnection()
      .execute(
        `delete from outbox where id in (select id from outbox where published_at < now() - interval '7 days' limit 5000)`,
      );
    if (requeued || failed)
      log.warn({ event: 'reconciled_stuck_work', requeued, failed }, 'reconciled stuck work');
    return { requeued, failed };
  }

  return {
    reconcileOnce,
    start() {
      timer = setInterval(() => {
        if (pass) return;
        pass = reconcileOnce()
          .catch((error) => log.warn({ err: error }, 'reconcile pass failed'))
          .then(() => {
            pass = undefined;
          });
      }, options.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await pass;
    },
  };
}
