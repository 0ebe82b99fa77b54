import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../config/logger.ts';
import { Broadcast, Notification, PersonalPlan } from '../db/entities/index.ts';
import { broadcastFanOutJob } from '../domain/broadcasts.ts';
import { notificationJob } from '../domain/notifications.ts';
import { planJob } from '../domain/surveys.ts';
import { addJobs, type Queues } from './queues.ts';

/** The same stable job ids and payloads the domain writes to the outbox. */
function jobOf(job: { jobId: string; payload: Record<string, unknown> }) {
  return { jobId: job.jobId, data: job.payload };
}

const INTERRUPTED = 'Processing was interrupted. Please try again.';

export interface ReconcilerOptions {
  orm: MikroORM;
  queues: Queues;
  logger: Logger;
  intervalMs: number;
  staleMs: number;
}

/**
 * The safety net behind the outbox: if Redis lost a job (restart without AOF, flush, eviction),
 * unfinished plans and notifications would wait forever. Anything unfinished and untouched for
 * `staleMs` whose job is gone is enqueued again under its stable id; a job BullMQ already gave up
 * on gets its final-failure transition.
 */
export function createReconciler(options: ReconcilerOptions) {
  const log = options.logger.child({ component: 'reconciler' });
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;

  async function reconcileOnce(): Promise<{ requeued: number; failed: number }> {
    const em = options.orm.em.fork({ clear: true });
    const before = new Date(Date.now() - options.staleMs);
    const plans = await em.find(
      PersonalPlan,
      { status: { $in: ['queued', 'generating'] }, updatedAt: { $lt: before } },
      { limit: 500, filters: false, fields: ['id', 'tenantId'] },
    );
    const notifications = await em.find(
      Notification,
      { status: { $in: ['pending', 'sending'] }, updatedAt: { $lt: before } },
      { limit: 500, filters: false, fields: ['id', 'tenantId'] },
    );
    const broadcasts = await em.find(
      Broadcast,
      { status: 'fanning_out', createdAt: { $lt: before } },
      { limit: 100, filters: false, fields: ['id', 'tenantId'] },
    );
    const candidates = [
      ...broadcasts.map((row) => ({
        queue: options.queues.notifications,
        name: 'notifications.broadcast' as const,
        ...jobOf(broadcastFanOutJob(row.tenantId, row.id)),
        // A fan-out BullMQ gave up on resumes from its cursor when retried; ops decide (Bull Board).
        markFailed: async () => 0,
      })),
      ...plans.map((plan) => ({
        queue: options.queues.plans,
        name: 'plans.generate' as const,
        ...jobOf(planJob(plan.tenantId, plan.id)),
        markFailed: () =>
          em.nativeUpdate(
            PersonalPlan,
            { id: plan.id, status: { $in: ['queued', 'generating'] } },
            { status: 'failed', error: INTERRUPTED, updatedAt: new Date() },
            { filters: false },
          ),
      })),
      ...notifications.map((row) => ({
        queue: options.queues.notifications,
        name: 'notifications.send' as const,
        ...jobOf(notificationJob(row.tenantId, row.id)),
        markFailed: () =>
          em.nativeUpdate(
            Notification,
            { id: row.id, status: 'pending' },
            { status: 'failed', error: INTERRUPTED, updatedAt: new Date() },
            { filters: false },
          ),
      })),
    ];
    let requeued = 0;
    let failed = 0;
    for (const candidate of candidates) {
      const job = await candidate.queue.getJob(candidate.jobId);
      if (!job) {
        await addJobs(options.queues, [
          { name: candidate.name, jobId: candidate.jobId, data: candidate.data },
        ]);
        requeued++;
      } else if ((await job.getState()) === 'failed') {
        // Gave up without the final-failure hook running (e.g. stalled too often while workers died).
        if ((await candidate.markFailed()) > 0) failed++;
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
