import type { Redis } from 'ioredis';
import { MetricsSnapshot } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { withTimeout } from '../util/with-timeout.ts';
import { METRICS_VERSION, type MetricsSnapshotData, type TenantMetrics } from './panel-metrics.ts';

/** Outlives two scheduler periods, so a healthy tenant's panel never reads PostgreSQL. */
export const METRICS_CACHE_TTL_SECONDS = 600;
/** A slow Redis must not slow the panel: past this, the snapshot is read from PostgreSQL. */
const CACHE_READ_TIMEOUT_MS = 250;

/**
 * Not `<prefix>:metrics:*`: that namespace belongs to the BullMQ queue named `metrics`, and
 * obliterating the queue would take the cache with it.
 */
export function metricsCacheKey(prefix: string, tenantId: string): string {
  return `${prefix}:metrics-cache:${tenantId}`;
}

function parse(raw: unknown): MetricsSnapshotData | null {
  const value = raw as { version?: number; computedAt?: string; metrics?: TenantMetrics } | null;
  if (value?.version !== METRICS_VERSION || !value.computedAt || !value.metrics) return null;
  return { computedAt: value.computedAt, metrics: value.metrics };
}

/** Upsert; an older computation (a job delayed behind a newer one) never overwrites a newer one. */
export async function saveMetricsSnapshot(
  em: EntityManager,
  tenantId: string,
  computedAt: Date,
  metrics: TenantMetrics,
): Promise<void> {
  await em.execute(
    `insert into metrics_snapshot (tenant_id, computed_at, data) values (?, ?, ?)
      on conflict (tenant_id) do update set computed_at = excluded.computed_at, data = excluded.data
      where metrics_snapshot.computed_at <= excluded.computed_at`,
    [tenantId, computedAt, JSON.stringify({ version: METRICS_VERSION, metrics })],
    'run',
  );
}

/** A replica is fine here: the snapshot is minutes old by design. */
export async function loadMetricsSnapshot(
  em: EntityManager,
  tenantId: string,
): Promise<MetricsSnapshotData | null> {
  const row = await em.findOne(MetricsSnapshot, { tenantId }, { connectionType: 'read' });
  if (!row) return null;
  return parse({ ...row.data, computedAt: row.computedAt.toISOString() });
}

/** Undefined on a miss, a timeout or Redis being down: the caller falls back to PostgreSQL. */
export async function readMetricsCache(
  redis: Redis,
  prefix: string,
  tenantId: string,
): Promise<MetricsSnapshotData | undefined> {
  try {
    const raw = await withTimeout(CACHE_READ_TIMEOUT_MS, redis.get(metricsCacheKey(prefix, tenantId)));
    return raw ? (parse(JSON.parse(raw)) ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Best effort. The job overwrites; a reader refilling after a miss only sets an absent key (NX),
 * so it cannot replace a newer value the job wrote between the reader's DB read and its write.
 */
export async function writeMetricsCache(
  redis: Redis,
  prefix: string,
  tenantId: string,
  snapshot: MetricsSnapshotData,
  mode: 'overwrite' | 'if-absent' = 'overwrite',
): Promise<boolean> {
  const key = metricsCacheKey(prefix, tenantId);
  const value = JSON.stringify({ version: METRICS_VERSION, ...snapshot });
  try {
    const result =
      mode === 'overwrite'
        ? await redis.set(key, value, 'EX', METRICS_CACHE_TTL_SECONDS)
        : await redis.set(key, value, 'EX', METRICS_CACHE_TTL_SECONDS, 'NX');
    return result === 'OK';
  } catch {
    return false;
  }
}
