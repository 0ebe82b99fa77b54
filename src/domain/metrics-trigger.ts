import type { EntityManager } from '../db/orm.ts';
import { METRICS_TRIGGER_WINDOW_MS } from '../queue/job-catalogue.ts';
import { enqueueOnce } from '../queue/outbox-writer.ts';

export { METRICS_TRIGGER_WINDOW_MS };

/**
 * Domain events (survey submitted, plan ready or failed, application decided) coalesce into one
 * recompute per tenant per window: the job's id names the window, and the job waits until the
 * window closes (`notBefore`), so the one run sees every event of its window.
 */
export function metricsRecomputePayload(tenantId: string, now: Date = new Date()) {
  const bucket = Math.floor(now.getTime() / METRICS_TRIGGER_WINDOW_MS);
  return { tenantId, notBefore: (bucket + 1) * METRICS_TRIGGER_WINDOW_MS };
}

/**
 * Writes the trigger in the caller's transaction (when there is one), so it commits with the
 * event. A second event in the same window is a no-op, never an error that would roll the event
 * back. Returns whether a row was written.
 */
export async function triggerMetricsRecompute(
  em: EntityManager,
  tenantId: string,
  now: Date = new Date(),
): Promise<boolean> {
  return (await enqueueOnce(em, 'metrics.recompute', [metricsRecomputePayload(tenantId, now)], now)) > 0;
}
