import { Subscription, SubscriptionPlan, TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { STARS_CURRENCY } from '../telegram/stars-api.ts';
import type { PreCheckoutRefusal } from './billing-texts.ts';
import { verifyInvoicePayload } from './invoice-payload.ts';

/**
 * Telegram charges a Stars renewal when the period ends, and its update can lag behind that moment:
 * for an hour after the end of a renewing period the subscription is neither lapsed (billing.sync
 * waits that long before expiring it) nor open to a second checkout.
 */
export const RENEWAL_GRACE_MS = 60 * 60_000;
/**
 * After we approve a checkout Telegram charges at once; until its payment is recorded no other
 * checkout of the same user is approved, or two invoices paid side by side would become two
 * Telegram subscriptions we keep one row for. Bounded, so a charge that never happened does not
 * block the user for long.
 */
export const CHECKOUT_HOLD_MS = 5 * 60_000;

export interface PreCheckout {
  queryId: string;
  fromTelegramId: string;
  currency: string;
  totalAmount: number;
  invoicePayload: string;
}

/** A new checkout would make a second subscription: while paid up, and while a renewal may be on its way. */
export function blocksNewCheckout(row: Subscription | null | undefined, now: Date): boolean {
  if (!row || (row.status !== 'active' && row.status !== 'cancelled')) return false;
  if (!row.currentPeriodEnd) return true;
  const grace = row.status === 'active' && row.renews ? RENEWAL_GRACE_MS : 0;
  return row.currentPeriodEnd.getTime() + grace > now.getTime();
}

/**
 * ok only when the payload is ours and untouched, the plan is on sale at this price, the payer is
 * its user, they have no subscription and no other approved checkout in flight. Approving takes
 * the user's checkout hold (the same query asked again keeps it).
 */
export async function checkPreCheckout(
  em: EntityManager,
  input: { tenantId: string; key: Buffer; query: PreCheckout; now: Date },
): Promise<{ ok: true } | { ok: false; reason: PreCheckoutRefusal }> {
  const { query, now, tenantId } = input;
  const target = verifyInvoicePayload(query.invoicePayload, input.key);
  if (!target || target.tenantId !== tenantId) return { ok: false, reason: 'invalid_invoice' };
  const [user, plan, subscription] = await Promise.all([
    em.findOne(TelegramUser, { id: target.userId }),
    em.findOne(SubscriptionPlan, { id: target.planId }),
    em.findOne(Subscription, { userId: target.userId }),
  ]);
  if (user?.telegramId !== query.fromTelegramId) return { ok: false, reason: 'invalid_invoice' };
  if (plan?.status !== 'active') return { ok: false, reason: 'plan_unavailable' };
  if (query.currency !== STARS_CURRENCY || query.totalAmount !== plan.priceStars) {
    return { ok: false, reason: 'price_changed' };
  }
  // A renewal is charged by Telegram without a pre-checkout, so any checkout here is a new subscription.
  if (blocksNewCheckout(subscription, now)) return { ok: false, reason: 'already_subscribed' };
  const held = await em.execute(
    `insert into stars_checkout (user_id, tenant_id, query_id, hold_until) values (?, ?, ?, ?)
     on conflict (user_id) do update set query_id = excluded.query_id, hold_until = excluded.hold_until
     where stars_checkout.hold_until <= ? or stars_checkout.query_id = excluded.query_id
     returning user_id`,
    [user.id, tenantId, query.queryId, new Date(now.getTime() + CHECKOUT_HOLD_MS), now],
    'all',
  );
  if (held.length === 0) return { ok: false, reason: 'checkout_in_progress' };
  return { ok: true };
}
