import type { MikroORM } from '@mikro-orm/postgresql';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/env.ts';
import type { Logger } from '../../config/logger.ts';
import type { LiveEventPublisher } from '../../domain/live-events.ts';
import type { Metrics } from '../../observability/metrics.ts';
import type { WebhookBots } from '../../telegram/webhook-bots.ts';
import type { TenantDirectory, TenantProfile } from '../../tenants/tenant-directory.ts';
import type { SharedRateLimiter } from '../shared-rate-limiter.ts';
import type { TenantPayments } from '../tenant-payments.ts';

/** What route handlers may use; built once per app by createHttpApp. */
export interface RouteDeps {
  config: Config;
  orm: MikroORM;
  /** Every coach of this deployment, with their bots (read through a short cache). */
  tenants: TenantDirectory;
  /** The web process's fail-fast producer connection. */
  redis: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Telegram Stars payments of a tenant's own bot, and its invoice key (from that bot's token). */
  payments(tenant: TenantProfile): TenantPayments;
  liveEvents: LiveEventPublisher;
  /** Every queue, for the queue gauges on /metrics. */
  queues: Queue[];
  /** Present in webhook mode (TELEGRAM_WEBHOOK_URL set). */
  /** Each tenant's bot for its webhook updates; present in webhook mode (TELEGRAM_WEBHOOK_URL set). */
  webhookBots: Pick<WebhookBots, 'botFor'> | undefined;
  /** Mini App test results: 100 per hour per user, shared by every web instance. */
  testResultLimiter: SharedRateLimiter;
  isShuttingDown(): boolean;
}
