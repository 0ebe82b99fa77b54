import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import type { Config } from '../../config/env.ts';
import { loadMetricsSnapshot, readMetricsCache, writeMetricsCache } from '../../domain/metrics-store.ts';
import { METRICS_TRIGGER_WINDOW_MS, triggerMetricsRecompute } from '../../domain/metrics-trigger.ts';
import { metricsView } from '../../domain/panel-metrics.ts';
import { hasPermission } from '../../domain/permissions.ts';
import { requirePermission } from '../require-permission.ts';
import { tmaAuth } from '../tma-auth.ts';

export interface PanelMetricsRouteDeps {
  config: Config;
  /** The web process's fail-fast producer connection: a Redis outage falls through to PostgreSQL. */
  redis: Redis;
  onOutboxWritten(): void;
}

/**
 * GET /api/panel/metrics serves the last snapshot the `metrics.recompute` job stored: Redis cache,
 * then PostgreSQL. Nothing is aggregated on this path. Before the first computation it answers 202
 * with `computedAt: null` and zeroed sections (the same shape), and asks for a recompute.
 */
export function panelMetricsRoutes(deps: PanelMetricsRouteDeps): Router {
  const router = new Router({ prefix: '/api/panel/metrics' });
  const prefix = deps.config.redis.queuePrefix;
  router.use(tmaAuth(deps.config), requirePermission('view_applications', deps.config.telegram.admins));

  router.get('/', async (ctx: Context) => {
    const tenantId: string = ctx.state.tenantId;
    let snapshot = (await readMetricsCache(deps.redis, prefix, tenantId)) ?? null;
    if (!snapshot) {
      snapshot = await loadMetricsSnapshot(ctx.state.em, tenantId);
      if (snapshot) void writeMetricsCache(deps.redis, prefix, tenantId, snapshot, 'if-absent');
    }
    if (!snapshot) {
      if (await triggerMetricsRecompute(ctx.state.em, tenantId)) deps.onOutboxWritten();
      ctx.status = 202;
      ctx.set('Retry-After', String(Math.ceil(METRICS_TRIGGER_WINDOW_MS / 1000)));
    }
    ctx.body = metricsView(snapshot, hasPermission(ctx.state.role, 'view_revenue'));
  });

  return router;
}
