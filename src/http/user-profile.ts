import { subscriptionView } from '../billing/subscriptions.ts';
import type { Subscription, TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { latestPlanSummary, planView } from '../domain/plans.ts';

/**
 * The columns of the caller's subscription that the profile shows (user_id is unique: one row at
 * most). A fixed statement rather than `findSubscriptions`, which builds its query from criteria
 * and hydrates whole entities: this runs on every `GET /api/me`. The benchmarks' baselines run
 * this exact text.
 */
export const SELECT_PROFILE_SUBSCRIPTION =
  'select plan_title, status, current_period_end, renews from subscription where tenant_id = ? and user_id = ?';

/** The row as pg returns it: timestamps are text until the platform parses them. */
type SubscriptionRow = {
  plan_title: string;
  status: Subscription['status'];
  current_period_end: string | null;
  renews: boolean;
};

async function profileSubscription(em: EntityManager, user: TelegramUser) {
  const [row] = await em.execute<SubscriptionRow[]>(
    SELECT_PROFILE_SUBSCRIPTION,
    [user.tenantId, user.id],
    'all',
  );
  if (!row) return null;
  const subscription: Pick<Subscription, 'planTitle' | 'status' | 'currentPeriodEnd' | 'renews'> = {
    planTitle: row.plan_title,
    status: row.status,
    currentPeriodEnd:
      row.current_period_end === null ? null : em.getPlatform().parseDate(row.current_period_end),
    renews: row.renews,
  };
  return subscriptionView(subscription);
}

/**
 * A user as the Mini App (`GET /api/me`) and the bot API see them: profile, role, client status,
 * subscription (the local table billing keeps current) and latest plan, read side by side. Both
 * reads are read-only summaries, so nothing enters the request's identity map.
 */
export async function userProfile(request: { em: EntityManager }, user: TelegramUser) {
  const [latest, subscription] = await Promise.all([
    latestPlanSummary(request.em, user.tenantId, user.id),
    profileSubscription(request.em, user),
  ]);
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    lastName: user.lastName ?? null,
    username: user.username ?? null,
    languageCode: user.languageCode ?? null,
    role: user.role ?? null,
    isClient: user.isClient ?? false,
    subscription,
    latestPlan: latest ? planView(latest, false) : null,
  };
}
