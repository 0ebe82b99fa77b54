import { findSubscriptions, subscriptionView } from '../billing/subscriptions.ts';
import type { TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { findLatestPlan, planView } from '../domain/plans.ts';

/**
 * A user as the Mini App (`GET /api/me`) and the bot API see them: profile, role, client status,
 * subscription (the local table billing keeps current) and latest plan, read side by side.
 */
export async function userProfile(request: { em: EntityManager }, user: TelegramUser) {
  const [latest, subscriptions] = await Promise.all([
    findLatestPlan(request.em, user.id),
    findSubscriptions(request.em, [user.id]),
  ]);
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    lastName: user.lastName ?? null,
    username: user.username ?? null,
    languageCode: user.languageCode ?? null,
    role: user.role ?? null,
    isClient: user.isClient ?? false,
    subscription: subscriptionView(subscriptions.get(user.id)),
    latestPlan: latest ? planView(latest, false) : null,
  };
}
