import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { forkForTenant } from '../src/db/orm.ts';
import { saveMetricsSnapshot, writeMetricsCache } from '../src/domain/metrics-store.ts';
import { computeTenantMetrics } from '../src/domain/panel-metrics.ts';
import { defineJob } from './job-definition.ts';

/** Longer than any computation; only matters when a worker dies holding the lock. */
export const METRICS_LOCK_TTL_MS = 60_000;
const BUSY_RETRY_MS = 1_000;

export function metricsLockKey(prefix: string, tenantId: string): string {
  return `${prefix}:metrics-lock:${tenantId}`;
}

const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

async function acquire(redis: Redis, key: string, token: string): Promise<boolean> {
  return (await redis.set(key, token, 'PX', METRICS_LOCK_TTL_MS, 'NX')) === 'OK';
}

/**
 * Recomputes one tenant's panel metrics and stores the snapshot, then refreshes the cache.
 * One at a time per tenant: the scheduler's job and event-triggered jobs are distinct BullMQ jobs,
 * so a per-tenant Redis lock (across every worker process) serialises them; a job that finds the
 * lock taken goes back to the delayed set without spending an attempt and runs after the holder,
 * so an event that arrived mid-computation is never lost.
 */
export const recomputeMetricsJob = defineJob('metrics.recompute', {
  async handle({ tenantId, notBefore }, deps, ctx) {
    const wait = (notBefore ?? 0) - Date.now();
    if (wait > 0) return ctx.delay(wait);

    const redis = deps.redis;
    const lockKey = metricsLockKey(redis.keyPrefix, tenantId);
    const token = `${ctx.jobId}:${randomUUID()}`;
    if (!(await acquire(redis.client, lockKey, token))) {
      return ctx.delay(BUSY_RETRY_MS + Math.round(Math.random() * 500));
    }
    try {
      const started = performance.now();
      const em = forkForTenant(deps.orm, tenantId);
      const computedAt = new Date();
      const metrics = await computeTenantMetrics(em, tenantId, computedAt);
      await saveMetricsSnapshot(em, tenantId, computedAt, metrics);
      const cached = await writeMetricsCache(redis.client, redis.keyPrefix, tenantId, {
        computedAt: computedAt.toISOString(),
        metrics,
      });
      ctx.log.info(
        { event: 'metrics_recomputed', tenantId, cached, ms: Math.round(performance.now() - started) },
        'metrics recomputed',
      );
    } finally {
      await redis.client.eval(RELEASE_SCRIPT, 1, lockKey, token).catch(() => {});
    }
  },
});
