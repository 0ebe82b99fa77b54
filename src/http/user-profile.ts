import type { BillingAdapter } from '../billing/billing-adapter.ts';
import type { Logger } from '../config/logger.ts';
import type { TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { lookupSubscriptions, subscriptionView } from '../domain/clients.ts';
import { findLatestPlan, planView } from '../domain/plans.ts';

/**
 * A user as the Mini App (`GET /api/me`) and the bot API see them: profile, role, client status,
 * subscription (one batched billing call) and latest plan, read side by side.
 */
export async function userProfile(
  request: { em: EntityManager; log: Logger; tenantId: string },
  billing: BillingAdapter,
  user: TelegramUser,
) {
  const [latest, subscriptions] = await Promise.all([
    findLatestPlan(request.em, user.id),
    lookupSubscriptions({ billing, log: request.log, tenantId: request.tenantId }, [user.id]),
  ]);
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    lastName: user.lastName ?? null,
    username: user.username ?? null,
    languageCode: user.languageCode ?? null,
    role: user.role ?? null,
    isClient: user.isClient ?? false,
    subscription: subscriptionView(subscriptions, user.id),
    latestPlan: latest ? planView(latest, false) : null,
  };
}
