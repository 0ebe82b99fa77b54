import type { MikroORM } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Logger } from '../config/logger.ts';
import { Tenant } from '../db/entities/index.ts';

const RETRY_MS = 30_000;

export function metricsSchedulerId(tenantId: string): string {
  return `metrics-${tenantId}`;
}

/**
 * One BullMQ job scheduler per tenant recomputes its metrics every `everyMs`. Upserting is
 * idempotent, so every worker process with the metrics queue does it at start (which also applies
 * a changed METRICS_INTERVAL_MS). If PostgreSQL or Redis is down at start, it retries in the
 * background instead of failing the worker.
 */
export function createMetricsSchedulers(options: {
  orm: MikroORM;
  queue: Queue;
  everyMs: number;
  logger: Logger;
}) {
  const log = options.logger.child({ component: 'metrics_schedulers' });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function upsertAll(): Promise<number> {
    const tenants = await options.orm.em.fork({ clear: true }).find(Tenant, {}, { fields: ['id'] });
    for (const tenant of tenants) {
      await options.queue.upsertJobScheduler(
        metricsSchedulerId(tenant.id),
        { every: options.everyMs },
        { name: 'metrics.recompute', data: { tenantId: tenant.id } },
      );
    }
    return tenants.length;
  }

  async function attempt(): Promise<void> {
    try {
      const tenants = await upsertAll();
      log.info(
        { event: 'metrics_schedulers_registered', tenants, everyMs: options.everyMs },
        'metrics scheduled',
      );
    } catch (error) {
      log.warn(
        { event: 'metrics_schedulers_failed', err: error },
        'cannot register metrics schedulers; will retry',
      );
      if (!stopped) timer = setTimeout(() => void attempt(), RETRY_MS);
    }
  }

  return {
    start: attempt,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
