import type { EntityManager } from '../db/orm.ts';

/**
 * Domain events (survey submitted, plan ready or failed, application decided) coalesce into one
 * recompute per tenant per window. The outbox's unique job id is the deduplication key, and the
 * job waits until the window closes (`notBefore`), so the one run sees every event of its window.
 */
export const METRICS_TRIGGER_WINDOW_MS = 10_000;

/**
 * The trigger's outbox fields. Write it with triggerMetricsRecompute, not tx.create(Outbox): a
 * second event in the same window would then break the unique job id and roll the event back.
 */
export function metricsRecomputeJob(tenantId: string, now: Date = new Date()) {
  const bucket = Math.floor(now.getTime() / METRICS_TRIGGER_WINDOW_MS);
  return {
    queue: 'metrics',
    jobName: 'metrics.recompute',
    jobId: `metrics-${tenantId}-${bucket}`,
    payload: { tenantId, notBefore: (bucket + 1) * METRICS_TRIGGER_WINDOW_MS },
  };
}

/**
 * Writes the trigger's outbox row in the caller's transaction (when there is one), so the trigger
 * commits with the event. ON CONFLICT DO NOTHING: a second event in the same window is a no-op,
 * never an error that would roll the event back. Returns whether a row was written (then call
 * onOutboxWritten).
 */
export async function triggerMetricsRecompute(
  em: EntityManager,
  tenantId: string,
  now: Date = new Date(),
): Promise<boolean> {
  const job = metricsRecomputeJob(tenantId, now);
  const result = await em.execute<{ affectedRows: number }>(
    `insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at)
      values (?, ?, ?, ?, ?, 0, ?) on conflict (job_id) do nothing`,
    [tenantId, job.queue, job.jobName, job.jobId, JSON.stringify(job.payload), now],
    'run',
  );
  return result.affectedRows > 0;
}
