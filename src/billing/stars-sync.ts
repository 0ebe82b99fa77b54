import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../config/logger.ts';
import { type EntityManager, forkForTenant } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import { STAR_TRANSACTIONS_PAGE_SIZE, type StarsApi } from '../telegram/stars-api.ts';
import { fromTelegramError } from './billing-sync-error.ts';
import { advanceStarOffset, readBillingSyncState } from './billing-sync-state.ts';
import { recordStarPayment, recordStarRefund } from './star-payments.ts';
import { readStarTransactions, type StarAction } from './star-transactions.ts';

/**
 * The Stars half of billing.sync: reads the bot's transaction list from where the last run
 * stopped and records every payment and refund the bot never heard about (its update was lost,
 * or arrived while the database was down past Telegram's retries). Telegram's list is
 * chronological and only grows, so the tenant's offset is a count of entries already applied.
 *
 * The offset moves only after a page's effects committed, so a crash re-reads at most one page,
 * and recording a charge id twice is a no-op (the star_payment primary key).
 */

/** Users recorded at once within a page. Each is a short transaction; the worker's pool is shared. */
const PAGE_CONCURRENCY = 4;

export interface StarsSyncInput {
  orm: MikroORM;
  tenantId: string;
  api: Pick<StarsApi, 'getStarTransactions'>;
  invoiceKey: Buffer;
  miniAppUrl: string | undefined;
  metrics: Metrics;
  log: Logger;
  /** Fires when the run's deadline passes: no new write starts after it. */
  signal: AbortSignal;
  /** Epoch ms after which no new page is read: the job continues in a fresh run instead of timing out. */
  stopAfter?: number;
}

export interface StarsSyncResult {
  /** getStarTransactions calls made. */
  calls: number;
  payments: number;
  refunds: number;
  offset: number;
  /** Stopped at stopAfter with pages left to read. */
  more: boolean;
}

export async function syncStarTransactions(input: StarsSyncInput): Promise<StarsSyncResult> {
  const em = forkForTenant(input.orm, input.tenantId);
  let { starTransactionsOffset: offset } = await readBillingSyncState(em, input.tenantId);
  const result: StarsSyncResult = { calls: 0, payments: 0, refunds: 0, offset, more: false };
  for (;;) {
    input.signal.throwIfAborted();
    result.calls++;
    const page = await input.api
      .getStarTransactions(offset, STAR_TRANSACTIONS_PAGE_SIZE)
      .catch((error) => Promise.reject(fromTelegramError(error)));
    const applied = await applyPage(input, em, readStarTransactions(page));
    result.payments += applied.payments;
    result.refunds += applied.refunds;
    if (page.length > 0) {
      offset += page.length;
      await advanceStarOffset(em, input.tenantId, offset);
    }
    // Only a short page says the list ended; a full one may be followed by more.
    if (page.length < STAR_TRANSACTIONS_PAGE_SIZE) break;
    if (input.stopAfter !== undefined && Date.now() >= input.stopAfter) {
      result.more = true;
      break;
    }
  }
  result.offset = offset;
  return result;
}

/**
 * One user's entries in their order (a payment, its renewal, its refund), different users side by
 * side. Every payment and refund locks its user, so a concurrent update from the bot waits.
 */
async function applyPage(
  input: StarsSyncInput,
  em: EntityManager,
  actions: StarAction[],
): Promise<{ payments: number; refunds: number }> {
  const counts = { payments: 0, refunds: 0 };
  if (actions.length === 0) return counts;
  const firstSeen = await payloadsNotYetPaid(em, input.tenantId, actions);
  const byPayer = new Map<string, StarAction[]>();
  for (const action of actions) {
    if (action.kind === 'payment' && action.payment.isRecurring) {
      action.payment.isFirstRecurring = firstSeen.delete(action.payment.invoicePayload);
    }
    byPayer.set(action.payer, [...(byPayer.get(action.payer) ?? []), action]);
  }
  const groups = [...byPayer.values()];
  const worker = async () => {
    for (let group = groups.pop(); group; group = groups.pop()) {
      for (const action of group) {
        input.signal.throwIfAborted();
        if (await applyAction(input, action)) counts[action.kind === 'payment' ? 'payments' : 'refunds']++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PAGE_CONCURRENCY, groups.length) }, worker));
  return counts;
}

/** True when the entry changed something: the bot had not recorded it. */
async function applyAction(input: StarsSyncInput, action: StarAction): Promise<boolean> {
  const { tenantId, miniAppUrl } = input;
  const em = forkForTenant(input.orm, tenantId);
  if (action.kind === 'payment') {
    const { payment } = action;
    const outcome = await recordStarPayment(em, {
      tenantId,
      key: input.invoiceKey,
      payment,
      source: 'sync',
      miniAppUrl,
      log: input.log,
      metrics: input.metrics,
    });
    if (outcome === 'foreign') {
      input.log.debug({ event: 'stars_sync_foreign', chargeId: payment.chargeId }, 'not one of our invoices');
    }
    if (outcome !== 'recorded') return false;
    const kind = payment.isRecurring && !payment.isFirstRecurring ? 'renewal' : 'first';
    input.metrics.starsPayments.inc({ kind, source: 'sync' });
    input.log.info(
      { event: 'stars_payment_recovered', chargeId: payment.chargeId, kind },
      'the sync found a payment the bot had not recorded',
    );
    return true;
  }
  const outcome = await em.transactional((tx) =>
    recordStarRefund(tx, {
      tenantId,
      chargeId: action.chargeId,
      refundedAt: action.refundedAt,
      source: 'sync',
      miniAppUrl,
    }),
  );
  if (outcome === 'unknown') {
    input.log.debug(
      { event: 'stars_sync_unknown_refund', chargeId: action.chargeId },
      'refund of a payment not ours',
    );
  }
  if (outcome !== 'recorded') return false;
  input.metrics.starsPayments.inc({ kind: 'refund', source: 'sync' });
  input.log.info(
    { event: 'stars_refund_recovered', chargeId: action.chargeId },
    'the sync found a refund the bot had not recorded',
  );
  return true;
}

/**
 * Telegram's list does not say which payment of a subscription was its first; a payload (one per
 * tenant, plan and user) we hold no payment for yet is. One query per page.
 */
async function payloadsNotYetPaid(
  em: EntityManager,
  tenantId: string,
  actions: StarAction[],
): Promise<Set<string>> {
  const payloads = new Set(
    actions.flatMap((action) => (action.kind === 'payment' ? [action.payment.invoicePayload] : [])),
  );
  if (payloads.size === 0) return payloads;
  const known = await em
    .getConnection()
    .execute<{ invoice_payload: string }[]>(
      'select distinct invoice_payload from star_payment where tenant_id = ? and invoice_payload in (?)',
      [tenantId, [...payloads]],
      'all',
    );
  for (const row of known) payloads.delete(row.invoice_payload);
  return payloads;
}
