import type { MikroORM } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { LiveEventPublisher } from '../domain/live-events.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StarsApi } from '../telegram/stars-api.ts';
import type { WebhookBots } from '../telegram/webhook-bots.ts';
import type { TenantDirectory } from '../tenants/tenant-directory.ts';
import { bullBoardMiddleware } from './bull-board.ts';
import { closeConnectionsWhenDraining } from './close-when-draining.ts';
import { errorMiddleware } from './error-middleware.ts';
import { requestContext } from './request-context.ts';
import type { RequestState } from './request-state.ts';
import { ROUTES } from './route-table.ts';
import { TEST_RESULTS_PER_HOUR } from './routes/mini-app-routes.ts';
import type { RouteDefinition } from './routing/define-route.ts';
import { createRouter } from './routing/mount-routes.ts';
import type { RouteDeps } from './routing/route-deps.ts';
import { securityHeaders } from './security-headers.ts';
import { createSharedRateLimiter } from './shared-rate-limiter.ts';
import { createTenantPayments } from './tenant-payments.ts';
import { tenantResolution } from './tenant-resolution.ts';
import { loadWebBuild, type WebBuild, webPagesMiddleware } from './web-pages.ts';

export interface HttpAppDeps {
  config: Config;
  orm: MikroORM;
  tenants: TenantDirectory;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Every tenant's bot for its webhook updates; required when TELEGRAM_WEBHOOK_URL is set. */
  webhookBots: Pick<WebhookBots, 'botFor'> | undefined;
  liveEvents: LiveEventPublisher;
  /** Every queue, for Bull Board and the queue gauges on /metrics. */
  queues: Queue[];
  isShuttingDown(): boolean;
  /** Defaults to the configured provider; tests pass one they control. */
  /** Overrides the Bot API's Stars methods of every tenant's bot (tests). */
  stars?: StarsApi;
  /** Defaults to every declared route; tests may mount a part of the table. */
  routes?: readonly RouteDefinition[];
  /** The built Mini App and panel; defaults to dist/web, read once here. */
  webBuild?: WebBuild;
}

/** Builds the Koa app; listening is the web process's job. */
export function createHttpApp(deps: HttpAppDeps): Koa<RequestState> {
  if (deps.config.telegram.webhookUrl && !deps.webhookBots) {
    throw new Error('TELEGRAM_WEBHOOK_URL is set but the web process was given no bots');
  }
  // Behind reverse proxies (TRUST_PROXY) ctx.ip comes from X-Forwarded-For, but only from the
  // entries our own proxies appended (the last N): anything left of them is what the caller sent.
  const app = new Koa<RequestState>({
    proxy: deps.config.http.trustedProxyHops > 0,
    maxIpsCount: deps.config.http.trustedProxyHops,
  });
  // Errors are answered by errorMiddleware; Koa's own handler would print stack traces to stderr.
  app.silent = true;
  app.use(closeConnectionsWhenDraining(deps.isShuttingDown));
  app.use(securityHeaders());
  app.use(requestContext(deps.logger, deps.metrics));
  app.use(errorMiddleware);
  // Which coach (X-Tenant): after the error middleware, so an unknown tenant is a JSON 404 and a
  // database outage while looking it up a 503, like every other error.
  app.use(tenantResolution(deps.orm, deps.tenants));
  // The pages and their assets, before the body parser: static files, read once at boot.
  app.use(webPagesMiddleware(deps.webBuild ?? loadWebBuild(), deps.tenants, deps.logger));
  // Bull Board serves its own HTML and assets: mounted before the JSON body parser. Its guard
  // and its dispatch test the same exact, case-sensitive prefix, so no path variant skips one.
  if (deps.config.observability.bullBoard) {
    app.use(bullBoardMiddleware(deps.queues, deps.config.observability.bullBoard));
  }
  app.use(
    koaBody({
      json: true,
      jsonLimit: '64kb',
      jsonStrict: true,
      // The raw text beside the parsed body (ctx.request.rawBody): the billing webhook's signature
      // is over the bytes sent, which re-serialising the parsed JSON would not reproduce. At most
      // jsonLimit more per request, and only for JSON bodies.
      includeUnparsed: true,
      urlencoded: false,
      text: false,
      multipart: false,
    }),
  );
  const routeDeps: RouteDeps = {
    config: deps.config,
    orm: deps.orm,
    tenants: deps.tenants,
    redis: deps.redis,
    logger: deps.logger,
    metrics: deps.metrics,
    liveEvents: deps.liveEvents,
    queues: deps.queues,
    webhookBots: deps.webhookBots,
    isShuttingDown: deps.isShuttingDown,
    payments: createTenantPayments(deps.config, deps.stars),
    testResultLimiter: createSharedRateLimiter({
      redis: deps.redis,
      keyPrefix: `${deps.config.redis.queuePrefix}:test-results`,
      points: TEST_RESULTS_PER_HOUR,
      durationSeconds: 3600,
    }),
  };
  const router = createRouter(deps.routes ?? ROUTES, routeDeps);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
