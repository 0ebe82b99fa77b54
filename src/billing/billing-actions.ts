import type { Logger } from '../config/logger.ts';
import { StarPayment, Subscription, TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import type { EntityManager } from '../db/orm.ts';
import { writeAudit } from '../domain/audit-log.ts';
import { AppError, NotFoundError, ServiceUnavailableError } from '../domain/errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { enqueueOnce } from '../queue/outbox-writer.ts';
import type { StarsApi } from '../telegram/stars-api.ts';
import {
  TelegramBadRequestError,
  TelegramChatNotFoundError,
  TelegramNetworkError,
  TelegramRateLimitedError,
  TelegramServerError,
  TelegramUserBlockedError,
} from '../telegram/telegram-errors.ts';
import { signInvoicePayload } from './invoice-payload.ts';
import { blocksNewCheckout } from './pre-checkout.ts';
import { recordStarRefund } from './star-payments.ts';
import { findOfferedPlan } from './subscription-plans.ts';
import { recordSubscriptionChange, type SubscriptionView, subscriptionView } from './subscriptions.ts';

/**
 * The billing actions of the Mini App and the panel: a client's invoice, the coach's cancel,
 * refund and "sync now". The first three call Telegram.
 * Telegram is called OUTSIDE any database transaction (a slow Bot API must not hold row locks or a
 * pooled connection), and what it did is recorded afterwards in one transaction with its audit row.
 * If that transaction fails after Telegram acted, the action is safe to repeat: Telegram answers
 * the repeat idempotently (cancel) or with CHARGE_ALREADY_REFUNDED, which is recorded as done.
 */

export interface BillingDeps {
  stars: StarsApi | undefined;
  invoiceKey: Buffer | undefined;
  metrics: Metrics;
  miniAppUrl: string | undefined;
  log: Logger;
}

type Stage = 'invoice' | 'refund' | 'cancel';

function starsOf(deps: BillingDeps): { stars: StarsApi; key: Buffer } {
  if (!deps.stars || !deps.invoiceKey) {
    throw new ServiceUnavailableError(
      'payments_unavailable',
      'Payments are not configured (no bot token).',
      60,
    );
  }
  return { stars: deps.stars, key: deps.invoiceKey };
}

/**
 * Telegram's failures as API errors: its outages are 503 (try again later), its refusals 502 with
 * its own description (which never holds the token: telegram-errors.ts builds it from the
 * answer's description only). Anything else is a bug and stays a 500.
 */
function telegramFailure(error: unknown, stage: Stage, deps: BillingDeps): unknown {
  deps.metrics.starsPaymentErrors.inc({ stage });
  deps.log.warn({ event: 'stars_api_failed', stage, err: error }, 'Telegram Stars call failed');
  if (error instanceof TelegramRateLimitedError) {
    return new ServiceUnavailableError(
      'telegram_unavailable',
      'Telegram is rate limiting us; please retry shortly.',
      Math.ceil(error.retryAfterMs / 1000),
    );
  }
  if (error instanceof TelegramServerError || error instanceof TelegramNetworkError) {
    return new ServiceUnavailableError(
      'telegram_unavailable',
      'Telegram is unavailable; please retry shortly.',
    );
  }
  if (
    error instanceof TelegramBadRequestError ||
    error instanceof TelegramUserBlockedError ||
    error instanceof TelegramChatNotFoundError
  ) {
    return new AppError(502, 'telegram_refused', `Telegram refused the request: ${error.message}`);
  }
  return error;
}

async function callTelegram<T>(stage: Stage, deps: BillingDeps, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw telegramFailure(error, stage, deps);
  }
}

/** A Stars invoice link for a plan on sale; the signed payload says which plan, tenant and user. */
export async function createSubscriptionInvoice(
  em: EntityManager,
  input: { tenantId: string; userId: string; planId: string },
  deps: BillingDeps,
): Promise<string> {
  const { stars, key } = starsOf(deps);
  const [plan, subscription] = await Promise.all([
    findOfferedPlan(em, input.planId),
    em.findOne(Subscription, { userId: input.userId }),
  ]);
  if (!plan) throw new NotFoundError('plan_not_found', 'No such plan on sale.');
  if (blocksNewCheckout(subscription, new Date())) {
    throw new AppError(409, 'already_subscribed', 'You already have a subscription for this period.');
  }
  const payload = signInvoicePayload(
    { tenantId: input.tenantId, planId: plan.id, userId: input.userId },
    key,
  );
  return callTelegram('invoice', deps, () =>
    stars.createInvoiceLink({
      title: plan.title,
      description: plan.description,
      payload,
      amount: plan.priceStars,
    }),
  );
}

/**
 * Stops a client's Stars subscription from renewing; they keep what they paid for until
 * currentPeriodEnd. Already cancelled: the view, without calling Telegram again.
 */
export async function cancelRenewal(
  em: EntityManager,
  input: { tenantId: string; actorId: string; telegramId: string },
  deps: BillingDeps,
): Promise<SubscriptionView> {
  const user = await em.findOne(TelegramUser, { telegramId: input.telegramId });
  const subscription = user ? await em.findOne(Subscription, { userId: user.id }) : null;
  if (!user || !subscription || !isLive(subscription)) {
    throw new NotFoundError('no_subscription', 'This user has no live subscription.');
  }
  if (subscription.provider !== 'stars') {
    throw new AppError(
      409,
      'managed_externally',
      'This subscription is managed by the external billing service.',
    );
  }
  if (subscription.status === 'cancelled') return subscriptionView(subscription)!;
  const chargeId = subscription.chargeId;
  if (!chargeId) {
    throw new AppError(409, 'not_cancellable', 'No Telegram payment is known for this subscription yet.');
  }
  const { stars } = starsOf(deps);
  await callTelegram('cancel', deps, () => stars.editUserStarSubscription(user.telegramId, chargeId, true));

  return em.transactional(async (tx) => {
    await lockUsers(tx, input.tenantId, { id: user.id });
    const current = await tx.findOne(Subscription, { userId: user.id }, { refresh: true });
    // Refunded or expired while Telegram was called: nothing left to cancel.
    if (!current || !isLive(current)) {
      throw new NotFoundError('no_subscription', 'This user has no live subscription.');
    }
    // A concurrent cancel got here first and recorded (and audited) it.
    if (current.status === 'cancelled') return subscriptionView(current)!;
    const now = new Date();
    current.status = 'cancelled';
    current.renews = false;
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: 'subscription.cancel',
      targetType: 'subscription',
      targetId: current.id,
      details: {
        telegramId: user.telegramId,
        chargeId,
        currentPeriodEnd: current.currentPeriodEnd?.toISOString() ?? null,
      },
      at: now,
    });
    await recordSubscriptionChange(tx, {
      tenantId: input.tenantId,
      user,
      kind: 'cancelled',
      source: 'panel',
      at: now,
      detail: { chargeId, by: 'panel' },
      message: {
        kind: 'cancelled',
        dedupeKey: `cancel-${chargeId}`,
        planTitle: current.planTitle,
        until: current.currentPeriodEnd ?? null,
      },
      miniAppUrl: deps.miniAppUrl,
    });
    return subscriptionView(current)!;
  });
}

export interface RefundResult {
  chargeId: string;
  refundedAt: string;
  subscription: SubscriptionView | null;
}

/** Refunds one Stars payment to its payer; refunding the current period's payment ends the subscription. */
export async function refundPayment(
  em: EntityManager,
  input: { tenantId: string; actorId: string; chargeId: string },
  deps: BillingDeps,
): Promise<RefundResult> {
  const payment = await em.findOne(StarPayment, { tenantId: input.tenantId, chargeId: input.chargeId });
  if (!payment) throw new NotFoundError('payment_not_found', 'No payment with this charge id.');
  if (payment.refundedAt) throw alreadyRefunded();
  const payer = await em.findOneOrFail(TelegramUser, { id: payment.userId });
  const { stars } = starsOf(deps);
  let refundedElsewhere = false;
  try {
    await stars.refundStarPayment(payer.telegramId, input.chargeId);
  } catch (error) {
    // Refunded by Telegram support, or by an earlier attempt whose recording failed: record it now.
    if (error instanceof TelegramBadRequestError && /CHARGE_ALREADY_REFUNDED/.test(error.message)) {
      refundedElsewhere = true;
    } else {
      throw telegramFailure(error, 'refund', deps);
    }
  }

  const refundedAt = new Date();
  const subscription = await em.transactional(async (tx) => {
    const outcome = await recordStarRefund(tx, {
      tenantId: input.tenantId,
      chargeId: input.chargeId,
      refundedAt,
      source: 'panel',
      miniAppUrl: deps.miniAppUrl,
    });
    // 'duplicate' after Telegram took OUR refund: its refunded_payment update reached the bot
    // first. The refund is this admin's and is audited. After CHARGE_ALREADY_REFUNDED it was
    // someone else's (a concurrent click or Telegram support), already recorded: 409.
    if (outcome === 'duplicate' && refundedElsewhere) throw alreadyRefunded();
    if (outcome === 'unknown')
      throw new NotFoundError('payment_not_found', 'No payment with this charge id.');
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: 'payment.refund',
      targetType: 'payment',
      // audit_log.target_id holds 64 characters; Telegram's charge ids can be longer.
      targetId: input.chargeId.length <= 64 ? input.chargeId : null,
      details: {
        chargeId: input.chargeId,
        telegramId: payer.telegramId,
        amount: payment.amount,
        currency: payment.currency,
        refundedElsewhere,
      },
      at: refundedAt,
    });
    await tx.flush();
    return tx.findOne(Subscription, { userId: payer.id }, { refresh: true });
  });
  deps.metrics.starsPayments.inc({ kind: 'refund', source: 'panel' });
  return {
    chargeId: input.chargeId,
    refundedAt: refundedAt.toISOString(),
    subscription: subscriptionView(subscription),
  };
}

/**
 * Queues a full billing.sync for the tenant now. The job is named by the current minute, so a
 * double click (or two owners at once) is one run, and only the click that queued it is audited.
 */
export async function requestBillingSync(
  em: EntityManager,
  input: { tenantId: string; actorId: string; now?: Date },
): Promise<{ queued: boolean }> {
  const now = input.now ?? new Date();
  const minute = now.toISOString().slice(0, 16).replace(/\D/g, ''); // e.g. 202612021530
  return em.transactional(async (tx) => {
    const written = await enqueueOnce(
      tx,
      'billing.sync',
      [{ tenantId: input.tenantId, trigger: 'panel', requestKey: minute }],
      now,
    );
    if (written > 0) {
      writeAudit(tx, {
        tenantId: input.tenantId,
        actorId: input.actorId,
        action: 'billing.sync',
        targetType: 'billing',
        targetId: null,
        details: { requestKey: minute },
        at: now,
      });
      await tx.flush();
    }
    return { queued: written > 0 };
  });
}

/** Active, or cancelled but still paid for: the states a coach can still act on. */
function isLive(subscription: Subscription): boolean {
  return subscription.status === 'active' || subscription.status === 'cancelled';
}

function alreadyRefunded(): AppError {
  return new AppError(409, 'already_refunded', 'This payment has already been refunded.');
}
