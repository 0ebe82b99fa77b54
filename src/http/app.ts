import type { MikroORM } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import Koa from 'koa';
import { koaBody } from 'koa-body';
import type { Telegraf } from 'telegraf';
import { invoiceKey } from '../billing/invoice-payload.ts';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { LiveEventPublisher } from '../domain/live-events.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createStarsApi, type StarsApi } from '../telegram/stars-api.ts';
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
import { loadWebBuild, type WebBuild, webPagesMiddleware } from './web-pages.ts';

export interface HttpAppDeps {
  config: Config;
  orm: MikroORM;
  tenants: TenantDirectory;
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  /** The bot that handles webhook updates; required when TELEGRAM_WEBHOOK_URL is set. */
  bot: Telegraf | undefined;
  liveEvents: LiveEventPublisher;
  /** Every queue, for Bull Board and the queue gauges on /metrics. */
  queues: Queue[];
  isShuttingDown(): boolean;
  /** Defaults to the configured provider; tests pass one they control. */
  /** Overrides the Bot API's Stars methods (tests). */
  stars?: StarsApi;
  /** Defaults to every declared route; tests may mount a part of the table. */
  routes?: readonly RouteDefinition[];
  /** The built Mini App and panel; defaults to dist/web, read once here. */
  webBuild?: WebBuild;
}

/** Builds the Koa app; listening is the web process's job. */
export function createHttpApp(deps: HttpAppDeps): Koa<RequestState> {
  if (deps.config.telegram.webhookUrl && !deps.bot) {
    throw new Error('TELEGRAM_WEBHOOK_URL is set but the web process was given no bot');
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
  app.use(requestContext(deps.orm, deps.tenants, deps.logger, deps.metrics));
  app.use(errorMiddleware);
  // The pages and their assets, before the body parser: static files, read once at boot.
  app.use(webPagesMiddleware(deps.webBuild ?? loadWebBuild(), deps.logger));
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
    bot: deps.bot,
    isShuttingDown: deps.isShuttingDown,
    stars: deps.stars ?? starsApiOf(deps.config),
    invoiceKey: deps.config.telegram.botToken ? invoiceKey(deps.config.telegram.botToken) : undefined,
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

function starsApiOf(config: Config): StarsApi | undefined {
  const { botToken, apiRoot, timeoutMs } = config.telegram;
  return botToken ? createStarsApi({ botToken, apiRoot, timeoutMs }) : undefined;
}
