import { findSubscriptions, type SubscriptionView, subscriptionView } from '../billing/subscriptions.ts';
import { TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import type { EntityManager } from '../db/orm.ts';
import { writeAudit } from './audit-log.ts';
import { NotFoundError } from './errors.ts';
import { type KeysetPosition, NEWEST_FIRST, olderThan, type Page, toPage } from './keyset.ts';
import { triggerMetricsRecompute } from './metrics-trigger.ts';

export interface ClientView {
  telegramId: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
  reachable: boolean;
  createdAt: string;
  subscription: SubscriptionView | null;
}

/**
 * Clients newest first by the user's (created_at, id): both never change, so the order is stable
 * while clients are added or removed between pages. Subscriptions for the whole page come from
 * one query of the local table that payments and billing.sync keep current.
 */
export async function listClients(
  em: EntityManager,
  page: { limit: number; after?: KeysetPosition },
): Promise<Page<ClientView>> {
  const rows = await em.find(
    TelegramUser,
    { isClient: true, ...olderThan(page.after) },
    { orderBy: NEWEST_FIRST, limit: page.limit + 1, connectionType: 'read' },
  );
  const { items, next } = toPage(rows, page.limit);
  const subscriptions = await findSubscriptions(
    em,
    items.map((user) => user.id),
    'read',
  );
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
      subscription: subscriptionView(subscriptions.get(user.id)),
    })),
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
