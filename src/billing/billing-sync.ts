import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { BillingProviderName } from '../db/entities/subscription.entity.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { StarsApi } from '../telegram/stars-api.ts';
import { withTimeout } from '../util/with-timeout.ts';
import { BillingSyncError, failureReason } from './billing-sync-error.ts';
import { recordSyncFailure, recordSyncSuccess } from './billing-sync-state.ts';
import { expireLapsedSubscriptions } from './expire-subscriptions.ts';
import { createHttpBillingClient, type HttpBillingClient } from './http-billing-provider.ts';
import { type HttpSyncResult, syncHttpSubscriptions } from './http-sync.ts';
import { createStarsClients } from './stars-clients.ts';
import { type StarsSyncResult, syncStarTransactions } from './stars-sync.ts';

/** Where a tenant's subscriptions come from. */
export type BillingSource =
  | {
      name: 'stars';
      /** Undefined when the tenant has no usable bot: there is no transaction list to read, only expiry. */
      telegram: { api: Pick<StarsApi, 'getStarTransactions'>; invoiceKey: Buffer } | undefined;
    }
  | { name: 'http'; client: HttpBillingClient };

/** What billing.sync needs besides the database; built once per worker process. */
export interface BillingSyncDeps {
  /** The tenant's source: Stars through the tenant's own bot, or the install's BILLING_* service. */
  sourceFor(tenantId: string): Promise<BillingSource>;
  /** A whole run (BILLING_SYNC_TIMEOUT_MS); each provider call has its own BILLING_TIMEOUT_MS. */
  syncTimeoutMs: number;
  /** Users per http batch request (BILLING_BATCH_SIZE). */
  batchSize: number;
}

/**
 * `botTokenFor` names each tenant's bot (the worker passes its tenant directory); without it every
 * tenant uses TELEGRAM_BOT_TOKEN, as a single-coach install (and older callers) did.
 */
export function createBillingSyncDeps(
  config: Config,
  botTokenFor?: (tenantId: string) => Promise<string | undefined>,
): BillingSyncDeps {
  const { billing, telegram } = config;
  const http: BillingSource | undefined =
    billing.provider === 'http'
      ? {
          name: 'http',
          // loadConfig refuses BILLING_PROVIDER=http without BILLING_URL.
          client: createHttpBillingClient({
            url: billing.url!,
            apiKey: billing.apiKey,
            timeoutMs: billing.timeoutMs,
          }),
        }
      : undefined;
  // One Stars client per bot token: a tenant's payments are its own bot's transactions.
  const starsClients = createStarsClients({ apiRoot: telegram.apiRoot, timeoutMs: billing.timeoutMs });
  const starsFor = (botToken: string | undefined): BillingSource => ({
    name: 'stars',
    telegram: botToken ? starsClients(botToken) : undefined,
  });
  return {
    async sourceFor(tenantId) {
      // The billing service's contract names users by Telegram id only, and the same person is a
      // different client at each coach: its answers can only be the default tenant's. Every other
      // tenant is billed in Stars by its own bot.
      if (http && tenantId === DEFAULT_TENANT_ID) return http;
      return starsFor(botTokenFor ? await botTokenFor(tenantId) : telegram.botToken);
    },
    syncTimeoutMs: billing.syncTimeoutMs,
    batchSize: billing.batchSize,
  };
}

export interface BillingSyncRun {
  orm: MikroORM;
  metrics: Metrics;
  log: Logger;
  billing: BillingSyncDeps;
  miniAppUrl: string | undefined;
  tenantId: string;
  telegramIds?: string[];
}

export interface BillingSyncSummary {
  provider: BillingProviderName;
  stars?: StarsSyncResult;
  http?: HttpSyncResult;
  expired: number;
  /** The Stars list has more pages than one run reads: run again (no attempt spent). */
  more: boolean;
  ms: number;
}

/**
 * A first Stars sync after a long outage can hold thousands of payments (100-270 recorded a
 * second on the 2-core dev machine, docs/benchmarks.md). Past this share of BILLING_SYNC_TIMEOUT_MS
 * the run stops at a page boundary and the job continues in a fresh run, so a backlog is progress
 * rather than a timeout failure; the hard timeout stays for a provider that hangs.
 */
const STARS_PAGE_BUDGET = 0.75;

/**
 * One billing.sync run: pull from the tenant's provider, then end the Stars subscriptions whose
 * renewal never came. `telegramIds` narrows the http pull; the Stars list is read whole either way
 * (one call when nothing is new). Expiry runs only after a successful pull: with Telegram unreachable we
 * cannot tell a lost renewal from a failed one, and telling a paying client "we could not renew"
 * is worse than ending a lapsed subscription one run later.
 *
 * Records the outcome in billing_sync_state and the billing_sync_* metrics, and rethrows a
 * failure so the queue retries the job with its backoff.
 */
export async function runBillingSync(run: BillingSyncRun): Promise<BillingSyncSummary> {
  const source = await run.billing.sourceFor(run.tenantId);
  const em = forkForTenant(run.orm, run.tenantId);
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const summary = await withTimeout(
      run.billing.syncTimeoutMs,
      (signal) => pullAndExpire(run, source, signal),
      () =>
        new BillingSyncError(
          'timeout',
          `billing sync did not finish within ${run.billing.syncTimeoutMs} ms`,
          source.name === 'http' ? 'billing' : 'telegram',
        ),
    );
    await recordSyncSuccess(em, run.tenantId, new Date());
    run.metrics.billingSyncDuration.observe({ provider: source.name, result: 'ok' }, seconds());
    return { ...summary, ms: Math.round(seconds() * 1000) };
  } catch (error) {
    const reason = failureReason(error);
    run.metrics.billingSyncDuration.observe({ provider: source.name, result: 'failed' }, seconds());
    run.metrics.billingSyncFailures.inc({ provider: source.name, reason });
    const message = error instanceof Error ? error.message : String(error);
    // With PostgreSQL down this cannot be written either; the failure metric and the log still say it.
    await recordSyncFailure(em, run.tenantId, new Date(), `${reason}: ${message}`).catch(() => {});
    run.log.warn(
      { event: 'billing_sync_failed', tenantId: run.tenantId, provider: source.name, reason, err: message },
      'billing sync failed',
    );
    throw error;
  }
}

async function pullAndExpire(
  run: BillingSyncRun,
  source: BillingSource,
  signal: AbortSignal,
): Promise<Omit<BillingSyncSummary, 'ms'>> {
  const { orm, tenantId } = run;
  const summary: Omit<BillingSyncSummary, 'ms'> = { provider: source.name, expired: 0, more: false };
  if (source.name === 'http') {
    summary.http = await syncHttpSubscriptions({
      orm,
      tenantId,
      client: source.client,
      batchSize: run.billing.batchSize,
      ...(run.telegramIds ? { telegramIds: run.telegramIds } : {}),
      now: new Date(),
      signal,
    });
  } else if (source.telegram) {
    summary.stars = await syncStarTransactions({
      orm,
      tenantId,
      ...source.telegram,
      miniAppUrl: run.miniAppUrl,
      metrics: run.metrics,
      log: run.log,
      signal,
      stopAfter: Date.now() + run.billing.syncTimeoutMs * STARS_PAGE_BUDGET,
    });
    // Renewals may be in the pages not read yet: expiring now could tell a paying client otherwise.
    summary.more = summary.stars.more;
    if (summary.more) return summary;
  }
  summary.expired = await expireLapsedSubscriptions({
    orm,
    tenantId,
    now: new Date(),
    miniAppUrl: run.miniAppUrl,
    signal,
  });
  return summary;
}
