import type { Logger } from '../config/logger.ts';
import { StarPayment, Subscription, SubscriptionPlan, TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import type { EntityManager } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import { STARS_SUBSCRIPTION_PERIOD_SECONDS } from '../telegram/stars-api.ts';
import { type InvoiceTarget, readInvoicePayload, verifyInvoicePayload } from './invoice-payload.ts';
import { isPaidUp, recordSubscriptionChange } from './subscriptions.ts';

/**
 * The money path of Telegram Stars: checking a checkout before Telegram charges, and recording
 * each payment and refund exactly once, however often (and in whatever order) Telegram or the
 * sync reports them. The star_payment primary key (tenant, charge id) is the "exactly once".
 * Checking a checkout is in pre-checkout.ts.
 */

/**
 * Whose payment this is: a payload signed with this bot's key, or one a payment was already
 * accepted with. Renewals carry the first payment's payload, so after the bot token changes (a
 * leaked token revoked in BotFather) the subscriptions it signed keep renewing.
 */
async function payerOf(
  em: EntityManager,
  tenantId: string,
  payload: string,
  key: Buffer,
): Promise<InvoiceTarget | undefined> {
  const signed = verifyInvoicePayload(payload, key);
  if (signed) return signed.tenantId === tenantId ? signed : undefined;
  const known = await em.execute(
    'select 1 from star_payment where tenant_id = ? and invoice_payload = ? limit 1',
    [tenantId, payload],
    'all',
  );
  const target = known.length > 0 ? readInvoicePayload(payload) : undefined;
  return target?.tenantId === tenantId ? target : undefined;
}

export interface StarPaymentReport {
  chargeId: string;
  amount: number;
  currency: string;
  invoicePayload: string;
  isRecurring: boolean;
  isFirstRecurring: boolean;
  /** subscription_expiration_date; null for a one-off payment. */
  expiresAt: Date | null;
  paidAt: Date;
}

export type PaymentOutcome = 'recorded' | 'duplicate' | 'foreign';

/**
 * Creates or extends the payer's subscription, once per charge id. The period end only moves
 * forward, so a renewal delivered before the one it follows changes nothing when the late one comes.
 */
export async function recordStarPayment(
  em: EntityManager,
  input: {
    tenantId: string;
    key: Buffer;
    payment: StarPaymentReport;
    source: 'update' | 'sync';
    miniAppUrl: string | undefined;
    log: Logger;
    metrics: Metrics;
  },
): Promise<PaymentOutcome> {
  const { payment, tenantId } = input;
  const target = await payerOf(em, tenantId, payment.invoicePayload, input.key);
  if (!target) return 'foreign';
  return em.transactional(async (tx) => {
    await lockUsers(tx, tenantId, { id: target.userId });
    const user = await tx.findOne(TelegramUser, { id: target.userId });
    if (!user) return 'foreign';
    const [existing, plan] = await Promise.all([
      tx.findOne(Subscription, { userId: user.id }, { refresh: true }),
      tx.findOne(SubscriptionPlan, { id: target.planId }),
    ]);
    const subscriptionId = existing?.id ?? crypto.randomUUID();
    const inserted = await tx.execute(
      `insert into star_payment (tenant_id, charge_id, user_id, subscription_id, plan_id, amount, currency,
        invoice_payload, is_recurring, is_first_recurring, expires_at, paid_at, recorded_by)
       values (?, ?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning charge_id`,
      [
        tenantId,
        payment.chargeId,
        user.id,
        plan?.id ?? null,
        payment.amount,
        payment.currency,
        payment.invoicePayload,
        payment.isRecurring,
        payment.isFirstRecurring,
        payment.expiresAt,
        payment.paidAt,
        input.source,
      ],
      'all',
    );
    if (inserted.length === 0) return 'duplicate';

    const periodEnd =
      payment.expiresAt ?? new Date(payment.paidAt.getTime() + STARS_SUBSCRIPTION_PERIOD_SECONDS * 1000);
    const planTitle = plan?.title ?? existing?.planTitle ?? 'Subscription';
    const isNew = !existing || existing.status === 'expired' || existing.status === 'refunded';
    const firstPayment = !payment.isRecurring || payment.isFirstRecurring;
    if (
      firstPayment &&
      !isNew &&
      existing?.chargeId !== payment.chargeId &&
      isPaidUp(existing, payment.paidAt)
    ) {
      // Two checkouts slipped past the checkout hold: Telegram now renews two subscriptions for one
      // client. Recorded (the money was taken), and loud: ops refund and cancel one (runbook).
      input.metrics.starsPaymentErrors.inc({ stage: 'second_subscription' });
      input.log.error(
        { event: 'stars_second_subscription', chargeId: payment.chargeId, keptChargeId: existing?.chargeId },
        'a client paid for a second Stars subscription; refund and cancel one of them',
      );
    }
    const subscription =
      existing ??
      tx.create(Subscription, {
        id: subscriptionId,
        tenantId,
        userId: user.id,
        provider: 'stars',
        planTitle,
        status: 'active',
        renews: true,
        price: payment.amount,
        currency: payment.currency,
        startedAt: payment.paidAt,
      });
    if (isNew) subscription.startedAt = payment.paidAt;
    const newest = isNew || !subscription.currentPeriodEnd || periodEnd >= subscription.currentPeriodEnd;
    // A renewal found late (by the sync) after the coach cancelled extends the paid period but does
    // not undo the cancel: Telegram will not charge again.
    const keepsCancel = !isNew && existing?.status === 'cancelled' && !firstPayment;
    if (newest) {
      Object.assign(subscription, {
        provider: 'stars',
        planId: plan?.id ?? null,
        planTitle,
        status: keepsCancel ? 'cancelled' : 'active',
        renews: keepsCancel ? false : payment.expiresAt !== null,
        price: payment.amount,
        currency: payment.currency,
        currentPeriodEnd: periodEnd,
        chargeId: payment.chargeId,
        endedAt: null,
      });
    }
    await tx.flush();
    await tx.execute(
      'update star_payment set subscription_id = ? where tenant_id = ? and charge_id = ?',
      [subscription.id, tenantId, payment.chargeId],
      'run',
    );
    // The checkout this paid for is over: the user's next checkout is judged by the subscription.
    await tx.execute('delete from stars_checkout where user_id = ?', [user.id], 'run');
    await recordSubscriptionChange(tx, {
      tenantId,
      user,
      kind: isNew ? 'started' : 'renewed',
      source: input.source,
      at: payment.paidAt,
      detail: { chargeId: payment.chargeId, amount: payment.amount, periodEnd: periodEnd.toISOString() },
      message: {
        kind: isNew ? 'started' : 'renewed',
        dedupeKey: `payment-${payment.chargeId}`,
        planTitle,
        until: subscription.currentPeriodEnd ?? periodEnd,
      },
      miniAppUrl: input.miniAppUrl,
    });
    return 'recorded';
  });
}

export type RefundOutcome = 'recorded' | 'duplicate' | 'unknown';

/**
 * Marks a payment refunded, once. Refunding the payment that paid the current period ends the
 * subscription; refunding an older one is recorded without touching the current period.
 */
export async function recordStarRefund(
  tx: EntityManager,
  input: {
    tenantId: string;
    chargeId: string;
    refundedAt: Date;
    source: 'update' | 'sync' | 'panel';
    miniAppUrl: string | undefined;
  },
): Promise<RefundOutcome> {
  const payment = await tx.findOne(StarPayment, { tenantId: input.tenantId, chargeId: input.chargeId });
  if (!payment) return 'unknown';
  await lockUsers(tx, input.tenantId, { id: payment.userId });
  const updated = await tx.execute(
    `update star_payment set refunded_at = ? where tenant_id = ? and charge_id = ? and refunded_at is null
     returning charge_id`,
    [input.refundedAt, input.tenantId, input.chargeId],
    'all',
  );
  if (updated.length === 0) return 'duplicate';
  const [user, subscription] = await Promise.all([
    tx.findOneOrFail(TelegramUser, { id: payment.userId }),
    tx.findOne(Subscription, { userId: payment.userId }, { refresh: true }),
  ]);
  const endsSubscription =
    subscription?.chargeId === input.chargeId &&
    (subscription.status === 'active' || subscription.status === 'cancelled');
  if (subscription && endsSubscription) {
    subscription.status = 'refunded';
    subscription.renews = false;
    subscription.endedAt = input.refundedAt;
  }
  await recordSubscriptionChange(tx, {
    tenantId: input.tenantId,
    user,
    kind: endsSubscription ? 'refunded' : 'changed',
    source: input.source,
    at: input.refundedAt,
    detail: { chargeId: input.chargeId, amount: payment.amount, refunded: true },
    ...(endsSubscription && subscription
      ? {
          message: {
            kind: 'refunded' as const,
            dedupeKey: `refund-${input.chargeId}`,
            planTitle: subscription.planTitle,
            until: null,
          },
        }
      : {}),
    miniAppUrl: input.miniAppUrl,
  });
  return 'recorded';
}
