import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * The panel's metrics for one tenant, as the `metrics.recompute` job last computed them. The API
 * only ever reads this row (behind a Redis cache), so a dashboard refresh never runs aggregates.
 */
export const MetricsSnapshotSchema = defineEntity({
  name: 'MetricsSnapshot',
  tableName: 'metrics_snapshot',
  properties: {
    tenantId: p.uuid().primary(),
    computedAt: p.datetime(),
    data: p.json<Record<string, unknown>>(),
  },
});
export class MetricsSnapshot extends MetricsSnapshotSchema.class {}
MetricsSnapshotSchema.setClass(MetricsSnapshot);
