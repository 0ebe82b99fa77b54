import Router from '@koa/router';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Config } from '../../config/env.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { serveMetrics } from '../../observability/metrics-endpoint.ts';
import { collectQueueCounts } from '../../observability/queue-metrics.ts';

/**
 * GET /metrics for Prometheus. Queue counts and daily active users are sampled at scrape time,
 * here in the web process only, so several workers never export competing copies of them.
 */
export function opsRoutes(deps: {
  config: Config;
  orm: MikroORM;
  metrics: Metrics;
  queues: Queue[];
}): Router {
  const router = new Router();
  const queueCounts = collectQueueCounts(deps.metrics, deps.queues);
  async function sampleDailyActiveUsers(): Promise<void> {
    try {
      const rows: { tenant_id: string; count: string }[] = await deps.orm.em
        .getConnection('read')
        .execute(
          "select tenant_id, count(*) as count from telegram_user where last_seen_at > now() - interval '1 day' group by tenant_id",
        );
      deps.metrics.dailyActiveUsers.reset();
      for (const row of rows) deps.metrics.dailyActiveUsers.set({ tenant: row.tenant_id }, Number(row.count));
    } catch {
      // Database down: /readyz says so; the scrape still answers with what it has.
    }
  }
  router.get('/metrics', async (ctx) => {
    ctx.respond = false;
    await serveMetrics(ctx.req, ctx.res, {
      metrics: deps.metrics,
      token: deps.config.observability.metricsToken,
      beforeScrape: async () => {
        await Promise.all([queueCounts(), sampleDailyActiveUsers()]);
      },
    });
  });
  return router;
}
