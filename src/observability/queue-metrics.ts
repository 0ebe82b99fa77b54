import type { Queue } from 'bullmq';
import type { Metrics } from './metrics.ts';

const STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'prioritized',
  'waiting-children',
] as const;

/**
 * Samples job counts when Prometheus scrapes, so the gauge is exact and costs nothing between
 * scrapes. A Redis outage leaves the last values rather than failing the scrape.
 */
export function collectQueueCounts(metrics: Metrics, queues: Queue[]): () => Promise<void> {
  return async () => {
    await Promise.all(
      queues.map(async (queue) => {
        try {
          const counts = await queue.getJobCounts(...STATES);
          for (const state of STATES) metrics.jobCount.set({ queue: queue.name, state }, counts[state] ?? 0);
        } catch {
          // Redis down: /readyz reports it; keep the scrape working.
        }
      }),
    );
  };
}
