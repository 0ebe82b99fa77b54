import type { MikroORM } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Telegraf } from 'telegraf';
import { createBillingAdapter } from '../billing/create-billing-adapter.ts';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { type LiveEventPublisher, noLiveEvents } from '../domain/live-events.ts';
import type { Metrics } from '../observability/metrics.ts';
import { bullBoardMiddleware } from './bull-board.ts';
import { closeConnectionsWhenDraining } from './close-when-draining.ts';
import { errorMiddleware } from './error-middleware.ts';
import { requestContext } from './request-context.ts';
import { botApiRoutes } from './routes/bot-api-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { miniAppRoutes } from './routes/mini-app-routes.ts';
import { opsRoutes } from './routes/ops-routes.ts';
import { panelAdminRoutes } from './routes/panel-admin-routes.ts';
import { panelApplicationRoutes } from './routes/panel-application-routes.ts';
import { panelAuditRoutes } from './routes/panel-audit-routes.ts';
import { panelBroadcastRoutes } from './routes/panel-broadcast-routes.ts';
import { panelClientRoutes } from './routes/panel-client-routes.ts';
import { panelMetricsRoutes } from './routes/panel-metrics-routes.ts';
import { telegramWebhookRoutes } from './routes/telegram-webhook-routes.ts';

export interface HttpAppDeps {
  config: Config;
  orm: MikroORM;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  /** The bot that handles webhook updates; required when TELEGRAM_WEBHOOK_URL is set. */
  bot?: Telegraf;
  /** Live panel updates (Redis pub/sub); nothing is published when absent. */
  liveEvents?: LiveEventPublisher;
  /** Every queue, for Bull Board and the queue gauges on /metrics. */
  queues?: Queue[];
  onOutboxWritten(): void;
  isShuttingDown(): boolean;
}

/** Builds the Koa app; listening is the web process's job. */
export function createHttpApp(deps: HttpAppDeps): Koa {
  // Behind reverse proxies (TRUST_PROXY) ctx.ip comes from X-Forwarded-For, but only from the
  // entries our own proxies appended (the last N): anything left of them is what the caller sent.
  const app = new Koa({
    proxy: deps.config.http.trustedProxyHops > 0,
    maxIpsCount: deps.config.http.trustedProxyHops,
  });
  // Errors are answered by errorMiddleware; Koa's own handler would print stack traces to stderr.
  app.silent = true;
  app.use(closeConnectionsWhenDraining(deps.isShuttingDown));
  app.use(requestContext(deps.orm, deps.logger, deps.metrics));
  app.use(errorMiddleware);
  // Bull Board serves its own HTML and assets: mounted before the JSON body parser.
  if (deps.config.observability.bullBoard && deps.queues) {
    app.use(bullBoardMiddleware(deps.queues, deps.config.observability.bullBoard));
  }
  app.use(
    koaBody({
      json: true,
      jsonLimit: '64kb',
      jsonStrict: true,
      urlencoded: false,
      text: false,
      multipart: false,
    }),
  );
  // One billing adapter (with its timeout) for every route that shows subscriptions.
  const billing = createBillingAdapter(deps.config, deps.orm);
  const health = healthRoutes(deps);
  app.use(health.routes());
  app.use(
    opsRoutes({
      config: deps.config,
      orm: deps.orm,
      metrics: deps.metrics,
      queues: deps.queues ?? [],
    }).routes(),
  );
  // ROUTES: bot API (server to server)
  app.use(botApiRoutes({ ...deps, billing }).routes());
  // ROUTES: Telegram webhook
  if (deps.config.telegram.webhookUrl) {
    if (!deps.bot) throw new Error('TELEGRAM_WEBHOOK_URL is set but the web process was given no bot');
    const webhook = telegramWebhookRoutes({ config: deps.config, bot: deps.bot, logger: deps.logger });
    app.use(webhook.routes());
    app.use(webhook.allowedMethods());
  }
  const miniApp = miniAppRoutes({
    config: deps.config,
    redis: deps.redis,
    billing,
    onOutboxWritten: deps.onOutboxWritten,
    liveEvents: deps.liveEvents ?? noLiveEvents,
  });
  app.use(miniApp.routes());
  app.use(miniApp.allowedMethods());
  const broadcasts = panelBroadcastRoutes({ config: deps.config, onOutboxWritten: deps.onOutboxWritten });
  app.use(broadcasts.routes());
  app.use(broadcasts.allowedMethods());
  const panelMetrics = panelMetricsRoutes({
    config: deps.config,
    redis: deps.redis,
    onOutboxWritten: deps.onOutboxWritten,
  });
  app.use(panelMetrics.routes());
  app.use(panelMetrics.allowedMethods());
  // ROUTES: panel (applications, clients, admins, audit log)
  const panelDeps = {
    config: deps.config,
    onOutboxWritten: deps.onOutboxWritten,
    liveEvents: deps.liveEvents ?? noLiveEvents,
    billing,
  };
  for (const router of [
    panelApplicationRoutes(panelDeps),
    panelClientRoutes(panelDeps),
    panelAdminRoutes(panelDeps),
    panelAuditRoutes(panelDeps),
  ]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
