import type { BillingAdapter, SubscriptionInfo } from '../billing/billing-adapter.ts';
import { BillingTimeoutError } from '../billing/billing-adapter.ts';
import type { Logger } from '../config/logger.ts';
import { TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import type { EntityManager } from '../db/orm.ts';
import { writeAudit } from './audit-log.ts';
import { NotFoundError } from './errors.ts';
import { type KeysetPosition, NEWEST_FIRST, olderThan, type Page, toPage } from './keyset.ts';
import { triggerMetricsRecompute } from './metrics-trigger.ts';

export type SubscriptionView =
  | {
      status: SubscriptionInfo['status'];
      planName: string;
      priceCents: number;
      currency: string;
      currentPeriodEnd: string | null;
    }
  | { status: 'unknown' }
  | null;

export interface ClientView {
  telegramId: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
  reachable: boolean;
  createdAt: string;
  subscription: SubscriptionView;
}

/**
 * Clients newest first by the user's (created_at, id): both never change, so the order is stable
 * while clients are added or removed between pages. Subscriptions for the whole page come from
 * one billing call; when billing is slow or down the page still answers, with `unknown`.
 */
export async function listClients(
  em: EntityManager,
  deps: { billing: BillingAdapter; log: Logger; tenantId: string },
  page: { limit: number; after?: KeysetPosition },
): Promise<Page<ClientView>> {
  const rows = await em.find(
    TelegramUser,
    { isClient: true, ...olderThan(page.after) },
    { orderBy: NEWEST_FIRST, limit: page.limit + 1, connectionType: 'read' },
  );
  const { items, next } = toPage(rows, page.limit);
  const subscriptions =
    items.length > 0
      ? await lookupSubscriptions(
          deps,
          items.map((user) => user.id),
        )
      : new Map<string, SubscriptionInfo>();
  return {
    next,
    items: items.map((user) => ({
      telegramId: user.telegramId,
      firstName: user.firstName,
      lastName: user.lastName ?? null,
      username: user.username ?? null,
      languageCode: user.languageCode ?? null,
      reachable: !user.unreachableAt,
      createdAt: user.createdAt.toISOString(),
      subscription: subscriptionView(subscriptions, user.id),
    })),
  };
}

/**
 * One billing call for a set of users. Slow or failing billing is logged (billing_adapter_timeout
 * with the number of ids) and answered with `undefined`, which views show as status `unknown`.
 */
export async function lookupSubscriptions(
  deps: { billing: BillingAdapter; log: Logger; tenantId: string },
  userIds: string[],
): Promise<Map<string, SubscriptionInfo> | undefined> {
  try {
    return await deps.billing.getSubscriptionsForUsers(userIds, { tenantId: deps.tenantId });
  } catch (error) {
    if (error instanceof BillingTimeoutError) {
      deps.log.warn(
        { event: 'billing_adapter_timeout', ids: error.ids, timeoutMs: error.timeoutMs },
        'billing provider timed out; subscriptions shown as unknown',
      );
    } else {
      deps.log.error(
        { event: 'billing_adapter_failed', ids: userIds.length, err: error },
        'billing provider failed; subscriptions shown as unknown',
      );
    }
    return undefined;
  }
}

export function subscriptionView(
  subscriptions: Map<string, SubscriptionInfo> | undefined,
  userId: string,
): SubscriptionView {
  if (!subscriptions) return { status: 'unknown' } as const;
  const found = subscriptions.get(userId);
  if (!found) return null;
  return {
    status: found.status,
    planName: found.planName,
    priceCents: found.priceCents,
    currency: found.currency,
    currentPeriodEnd: found.currentPeriodEnd?.toISOString() ?? null,
  };
}

/** Client → former client; their history (surveys, plans, subscription) is kept. Audited. */
export async function removeClient(
  em: EntityManager,
  input: { tenantId: string; actorId: string; telegramId: string },
): Promise<TelegramUser> {
  return em.transactional(async (tx) => {
    await lockUsers(tx, input.tenantId, { telegramId: input.telegramId });
    const user = await tx.findOne(TelegramUser, { telegramId: input.telegramId }, { refresh: true });
    if (!user?.isClient) throw new NotFoundError('client_not_found', 'No client with this Telegram id.');
    user.isClient = false;
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: 'client.remove',
      targetType: 'user',
      targetId: user.id,
      details: { telegramId: user.telegramId },
    });
    await tx.flush();
    // The panel's subscriber counts change with it.
    await triggerMetricsRecompute(tx, input.tenantId);
    return user;
  });
}
