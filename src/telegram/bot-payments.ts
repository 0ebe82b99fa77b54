import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { SuccessfulPayment } from 'telegraf/types';
import { preCheckoutRefusal } from '../billing/billing-texts.ts';
import { checkPreCheckout } from '../billing/pre-checkout.ts';
import { recordStarPayment, recordStarRefund } from '../billing/star-payments.ts';
import type { Logger } from '../config/logger.ts';
import { isDependencyDown, isTransientConflict } from '../db/dependency-errors.ts';
import { forkForTenant } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import { enqueueOnce } from '../queue/outbox-writer.ts';
import { withTimeout } from '../util/with-timeout.ts';

/**
 * Telegram Stars updates. Telegram waits 10 s for a pre-checkout answer, then fails the checkout;
 * deciding gets half of that, so a slow database still ends in a clear "try again" for the client.
 */
const PRE_CHECKOUT_DECIDE_MS = 5_000;
/** Waits before retrying a payment the database could not take (well inside the 30 s handler budget). */
const RECORD_RETRY_WAITS_MS = [500, 2_000, 5_000];

/** Fields of SuccessfulPayment newer than telegraf's Bot API 7.1 typings. */
type StarsSuccessfulPayment = SuccessfulPayment & {
  subscription_expiration_date?: number;
  is_recurring?: boolean;
  is_first_recurring?: boolean;
};
interface RefundedPayment {
  currency: string;
  total_amount: number;
  invoice_payload: string;
  telegram_payment_charge_id: string;
}

/**
 * A payment (or refund) that could not be recorded. The webhook answers 503 for it, so Telegram
 * delivers the update again; billing.sync would also find it in getStarTransactions.
 */
export class PaymentNotRecordedError extends Error {
  override name = 'PaymentNotRecordedError';
  readonly cause: unknown;
  constructor(cause: unknown) {
    super('A Telegram Stars payment update could not be recorded');
    this.cause = cause;
  }
}

export interface PaymentHandlerDeps {
  /** The bot's tenant: its payments are recorded there, checked with its invoice key. */
  tenantId: string;
  orm: MikroORM;
  logger: Logger;
  metrics: Metrics;
  invoiceKey: Buffer;
  miniAppUrl: string | undefined;
}

export function registerPaymentHandlers(bot: Telegraf, deps: PaymentHandlerDeps): void {
  const { orm, logger, metrics, tenantId } = deps;

  bot.on('pre_checkout_query', async (ctx) => {
    const query = ctx.preCheckoutQuery;
    let verdict: Awaited<ReturnType<typeof checkPreCheckout>>;
    try {
      verdict = await withTimeout(PRE_CHECKOUT_DECIDE_MS, () =>
        checkPreCheckout(forkForTenant(orm, tenantId), {
          tenantId,
          key: deps.invoiceKey,
          now: new Date(),
          query: {
            queryId: query.id,
            fromTelegramId: String(query.from.id),
            currency: query.currency,
            totalAmount: query.total_amount,
            invoicePayload: query.invoice_payload,
          },
        }),
      );
    } catch (error) {
      metrics.starsPaymentErrors.inc({ stage: 'pre_checkout' });
      logger.error(
        { event: 'stars_pre_checkout_failed', err: error },
        'could not check a pre-checkout query',
      );
      verdict = { ok: false, reason: 'unavailable' };
    }
    metrics.starsPreCheckouts.inc({ result: verdict.ok ? 'ok' : verdict.reason });
    if (!verdict.ok) {
      logger.info({ event: 'stars_pre_checkout_refused', reason: verdict.reason }, 'pre-checkout refused');
      await ctx.answerPreCheckoutQuery(false, preCheckoutRefusal(verdict.reason, query.from.language_code));
      return;
    }
    await ctx.answerPreCheckoutQuery(true);
  });

  bot.on(message('successful_payment'), async (ctx) => {
    const paid = ctx.message.successful_payment as StarsSuccessfulPayment;
    const outcome = await recording('payment', () =>
      recordStarPayment(forkForTenant(orm, tenantId), {
        tenantId,
        key: deps.invoiceKey,
        source: 'update',
        miniAppUrl: deps.miniAppUrl,
        log: logger,
        metrics,
        payment: {
          chargeId: paid.telegram_payment_charge_id,
          amount: paid.total_amount,
          currency: paid.currency,
          invoicePayload: paid.invoice_payload,
          isRecurring: paid.is_recurring ?? false,
          isFirstRecurring: paid.is_first_recurring ?? false,
          expiresAt: paid.subscription_expiration_date
            ? new Date(paid.subscription_expiration_date * 1000)
            : null,
          paidAt: new Date(ctx.message.date * 1000),
        },
      }),
    );
    const kind = paid.is_recurring && !paid.is_first_recurring ? 'renewal' : 'first';
    if (outcome === 'recorded') metrics.starsPayments.inc({ kind, source: 'update' });
    if (outcome === 'foreign') {
      // Telegram only charges after our pre-checkout said ok, so this is not ours to keep quiet about.
      metrics.starsPaymentErrors.inc({ stage: 'payment' });
      logger.error(
        { event: 'stars_payment_foreign', chargeId: paid.telegram_payment_charge_id },
        'a payment with an invoice payload we did not sign',
      );
    }
    logger.info(
      { event: 'stars_payment', outcome, kind, chargeId: paid.telegram_payment_charge_id },
      'payment',
    );
  });

  // refunded_payment (Bot API 7.10+) is unknown to telegraf's filters, so it is matched by hand.
  bot.on('message', async (ctx, next) => {
    const refund = (ctx.message as { refunded_payment?: RefundedPayment }).refunded_payment;
    if (!refund) return next();
    const chargeId = refund.telegram_payment_charge_id;
    const outcome = await recording('refund', () =>
      forkForTenant(orm, tenantId).transactional(async (tx) => {
        const result = await recordStarRefund(tx, {
          tenantId,
          chargeId,
          refundedAt: new Date(ctx.message.date * 1000),
          source: 'update',
          miniAppUrl: deps.miniAppUrl,
        });
        // A refund of a payment we never saw: the sync reads both from Telegram, in order.
        if (result === 'unknown') {
          await enqueueOnce(tx, 'billing.sync', [
            { tenantId, trigger: 'payment', requestKey: requestKeyOf(chargeId) },
          ]);
        }
        return result;
      }),
    );
    if (outcome === 'recorded') metrics.starsPayments.inc({ kind: 'refund', source: 'update' });
    logger.info({ event: 'stars_refund', outcome, chargeId }, 'refund');
  });

  /** Retries a write the database could not take right now; past the retries, Telegram redelivers. */
  async function recording<T>(stage: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        const wait = RECORD_RETRY_WAITS_MS[attempt];
        if (wait !== undefined && (isDependencyDown(error) || isTransientConflict(error))) {
          await sleep(wait);
          continue;
        }
        metrics.starsPaymentErrors.inc({ stage });
        throw new PaymentNotRecordedError(error);
      }
    }
  }
}

/** Charge ids are Telegram's opaque strings; job ids take only a safe, bounded alphabet. */
function requestKeyOf(chargeId: string): string {
  return `refund_${chargeId.replace(/[^A-Za-z0-9_-]/g, '').slice(-40)}`;
}
