import type { MikroORM } from '@mikro-orm/postgresql';
import { Subscription, TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import { forkForTenant } from '../db/orm.ts';
import { RENEWAL_GRACE_MS } from './pre-checkout.ts';
import { recordSubscriptionChange } from './subscriptions.ts';

/**
 * A subscription is only taken for lapsed RENEWAL_GRACE_MS (an hour) after its period end, so a
 * renewal on its way (its update, or the transaction the sync reads, can lag) is not mistaken for a
 * failed one; the client keeps access for that hour either way.
 */

/** Subscriptions looked at per query; each one is then its own short transaction. */
const PAGE = 200;

export interface ExpireInput {
  orm: MikroORM;
  tenantId: string;
  now: Date;
  miniAppUrl: string | undefined;
  signal?: AbortSignal;
}

/**
 * Ends the tenant's Stars subscriptions whose period ran out more than the grace ago without a
 * renewal: status 'expired', an 'expired' event, and a message to the client — "we could not renew"
 * when Telegram was still meant to charge them, "your subscription has ended" when they had
 * cancelled. Returns how many it ended.
 *
 * The candidates are read without locks; each is then locked (its user row, as every payment
 * does) and read again, so a renewal that commits meanwhile wins and the subscription stays.
 */
export async function expireLapsedSubscriptions(input: ExpireInput): Promise<number> {
  const { tenantId, now } = input;
  const cutoff = new Date(now.getTime() - RENEWAL_GRACE_MS);
  const em = forkForTenant(input.orm, tenantId);
  let expired = 0;
  let after: { end: Date; id: string } | undefined;
  for (;;) {
    const rows = await em.getConnection().execute<{ id: string; current_period_end: Date }[]>(
      `select id, current_period_end from subscription
       where tenant_id = ? and provider = 'stars' and status in ('active', 'cancelled')
         and current_period_end < ? ${after ? 'and (current_period_end, id) > (?, ?)' : ''}
       order by current_period_end, id limit ?`,
      [tenantId, cutoff, ...(after ? [after.end, after.id] : []), PAGE],
      'all',
    );
    for (const row of rows) {
      input.signal?.throwIfAborted();
      if (await expireOne(input, row.id, cutoff)) expired++;
    }
    if (rows.length < PAGE) return expired;
    const last = rows.at(-1)!;
    after = { end: last.current_period_end, id: last.id };
  }
}

async function expireOne(input: ExpireInput, subscriptionId: string, cutoff: Date): Promise<boolean> {
  const { tenantId, now } = input;
  return forkForTenant(input.orm, tenantId).transactional(async (tx) => {
    const candidate = await tx.findOne(Subscription, { id: subscriptionId });
    if (!candidate) return false;
    await lockUsers(tx, tenantId, { id: candidate.userId });
    const subscription = await tx.findOne(Subscription, { id: subscriptionId }, { refresh: true });
    const periodEnd = subscription?.currentPeriodEnd;
    const lapsed =
      subscription?.provider === 'stars' &&
      (subscription.status === 'active' || subscription.status === 'cancelled') &&
      periodEnd &&
      periodEnd < cutoff;
    if (!subscription || !periodEnd || !lapsed) return false;
    const user = await tx.findOneOrFail(TelegramUser, { id: subscription.userId });
    // Still renewing at its end means Telegram tried to charge and could not.
    const renewalFailed = subscription.renews;
    subscription.status = 'expired';
    subscription.renews = false;
    subscription.endedAt = now;
    await recordSubscriptionChange(tx, {
      tenantId,
      user,
      kind: 'expired',
      source: 'sync',
      at: now,
      detail: { periodEnd: periodEnd.toISOString(), renewalFailed },
      message: {
        kind: renewalFailed ? 'renewalFailed' : 'ended',
        dedupeKey: `expired-${subscription.id}-${Math.floor(periodEnd.getTime() / 1000)}`,
        planTitle: subscription.planTitle,
        until: null,
      },
      miniAppUrl: input.miniAppUrl,
    });
    return true;
  });
}
