import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type Config, ConfigError } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { DEFAULT_TENANT_ID } from '../db/orm.ts';
import { ensureConfiguredOwners } from '../domain/admins.ts';
import { createLiveEventPublisher } from '../domain/live-events.ts';
import { createHttpApp } from '../http/app.ts';
import { createPanelWebSocketServer, isPanelWebSocketRequest } from '../http/panel-websocket.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { JobCatalogue } from '../queue/job-catalogue.ts';
import { createOutboxRelay } from '../queue/outbox-relay.ts';
import { closeQueues, createQueues } from '../queue/queues.ts';
import { closeRedis, createRedisConnection, type RedisTarget } from '../queue/redis-connection.ts';
import { missingBotReason } from '../telegram/bot.ts';
import { configuredDefaultTenant } from '../telegram/configured-default-tenant.ts';
import { createWebhookBots, type WebhookBots } from '../telegram/webhook-bots.ts';
import { createTenantDirectory } from '../tenants/tenant-directory.ts';

export interface WebProcessDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  /** A Redis URL, or a cluster (REDIS_CLUSTER_NODES). */
  redisTarget: RedisTarget;
  metrics: Metrics;
  /** The jobs its outbox relay publishes; defaults to the catalogue (tests add jobs of their own). */
  catalogue?: JobCatalogue;
}

/**
 * The web process: Koa API plus an outbox relay, so an accepted survey reaches the queue within
 * milliseconds when Redis is up and as soon as it returns when it is not.
 */
export function createWebProcess(deps: WebProcessDeps) {
  const { config, logger } = deps;
  const redis = createRedisConnection(deps.redisTarget, 'producer', 'web');
  const tenants = createTenantDirectory({ orm: deps.orm, config, logger });
  const queues = createQueues(redis, config);
  const relay = createOutboxRelay({
    orm: deps.orm,
    queues,
    logger,
    pollMs: config.outbox.pollMs,
    catalogue: deps.catalogue,
  });
  const liveEvents = createLiveEventPublisher(redis, config.redis.queuePrefix);
  const panelSocket = createPanelWebSocketServer({
    config,
    tenants,
    orm: deps.orm,
    redisTarget: deps.redisTarget,
    logger,
    metrics: deps.metrics,
  });
  let shuttingDown = false;
  // Webhook mode: each tenant's updates arrive at its POST /telegram/webhook[/<slug>] and are
  // handled here, by that tenant's bot. The app is handed the default tenant's (a missing
  // TELEGRAM_BOT_TOKEN fails here, clearly) and finds the others' through it.
  const webhookBots = config.telegram.webhookUrl
    ? createWebhookBots({ config, orm: deps.orm, logger, metrics: deps.metrics, tenants })
    : undefined;
  if (webhookBots) requireDefaultBot(webhookBots, config);
  const app = createHttpApp({
    config,
    orm: deps.orm,
    tenants,
    redis,
    logger,
    metrics: deps.metrics,
    queues: Object.values(queues),
    webhookBots,
    liveEvents,
    isShuttingDown: () => shuttingDown,
  });
  const server: Server = createServer(app.callback());
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.on('upgrade', (req, socket, head) => {
    if (isPanelWebSocketRequest(req)) panelSocket.handleUpgrade(req, socket, head);
    else
      socket
        .on('error', () => {})
        .end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  return {
    app,
    server,
    tenants,
    queues,
    relay,
    liveEvents,
    panelSocket,
    /** Webhook mode: every tenant's bot and webhook registration. */
    webhookBots,
    /** The bound port (useful with PORT=0). */
    port(): number {
      return (server.address() as AddressInfo).port;
    },
    async start(): Promise<void> {
      // Not fatal: effectiveRole treats TELEGRAM_ADMINS as owners even without their rows.
      await ensureConfiguredOwners(deps.orm, DEFAULT_TENANT_ID, config.telegram.admins)
        .then(({ revoked }) => {
          if (revoked.length > 0) {
            logger.warn(
              { event: 'configured_owner_revoked', telegramIds: revoked },
              'removed from TELEGRAM_ADMINS',
            );
          }
        })
        .catch((error) =>
          logger.error(
            { event: 'configured_owners_failed', err: error },
            'could not store TELEGRAM_ADMINS as owners',
          ),
        );
      relay.start();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.http.port, config.http.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      logger.info({ port: this.port() }, 'web listening');
      // Not fatal: the API must serve even when Telegram is unreachable, and updates keep arriving at
      // the URLs a previous start registered. Tenants added later are registered every TENANT_CACHE_MS.
      await webhookBots?.start();
    },
    /** Stops accepting, lets in-flight requests finish (bounded by the shutdown timeout), then closes. */
    async stop(): Promise<void> {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Panel sockets get a 1001 so clients reconnect to another instance instead of seeing a drop.
      await panelSocket.close();
      const deadline = setTimeout(() => {
        logger.warn(
          { event: 'shutdown_deadline_connections_cut', timeoutMs: config.shutdownTimeoutMs },
          'requests still open at the shutdown deadline; closing their connections',
        );
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      await closed;
      clearTimeout(deadline);
      await webhookBots?.stop();
      await relay.stop();
      await closeQueues(queues);
      await closeRedis(redis);
      logger.info('web stopped');
    },
  };
}

function requireDefaultBot(webhookBots: WebhookBots, config: Config): void {
  const tenant = configuredDefaultTenant(config);
  if (!webhookBots.botFor(tenant)) throw new ConfigError(missingBotReason(tenant));
}
