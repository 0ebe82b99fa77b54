import { randomUUID } from 'node:crypto';
import { Subscription, SubscriptionEvent, type TelegramUser } from '../db/entities/index.ts';
import type { SubscriptionStatus } from '../db/entities/subscription.entity.ts';
import type { SubscriptionEventKind } from '../db/entities/subscription-event.entity.ts';
import type { EntityManager } from '../db/orm.ts';
import { triggerMetricsRecompute } from '../domain/metrics-trigger.ts';
import { queueClientMessage } from '../domain/notifications.ts';
import { type SubscriptionMessageKind, subscriptionMessage } from './billing-texts.ts';

/** What `GET /api/me`, the bot API and the panel's clients show; null without a subscription. */
export interface SubscriptionView {
  planTitle: string;
  status: SubscriptionStatus;
  currentPeriodEnd: string | null;
  renews: boolean;
}

export function subscriptionView(
  row: Pick<Subscription, 'planTitle' | 'status' | 'currentPeriodEnd' | 'renews'> | undefined | null,
): SubscriptionView | null {
  if (!row) return null;
  return {
    planTitle: row.planTitle,
    status: row.status,
    currentPeriodEnd: row.currentPeriodEnd?.toISOString() ?? null,
    renews: row.renews,
  };
}

/**
 * One query for a whole page of users (the synced local table; no remote call per request). Panel
 * lists read a replica; a client looking at their own subscription right after paying reads the primary.
 */
export async function findSubscriptions(
  em: EntityManager,
  userIds: string[],
  connectionType: 'read' | 'write' = 'write',
): Promise<Map<string, Subscription>> {
  if (userIds.length === 0) return new Map();
  const rows = await em.find(Subscription, { userId: { $in: userIds } }, { connectionType });
  return new Map(rows.map((row) => [row.userId, row]));
}

/** isPaidUp() in SQL, for a `subscription` row aliased `alias`, against the SQL expression `now`. */
export function paidUpSql(alias: string, now: string): string {
  return `${alias}.status in ('active', 'cancelled') and (${alias}.current_period_end is null or ${alias}.current_period_end > ${now})`;
}

/** Paid up now: active, or cancelled but inside the period already paid for. */
export function isPaidUp(row: Subscription | null | undefined, now: Date): boolean {
  if (!row || (row.status !== 'active' && row.status !== 'cancelled')) return false;
  return !row.currentPeriodEnd || row.currentPeriodEnd.getTime() > now.getTime();
}

export interface SubscriptionChange {
  tenantId: string;
  user: Pick<TelegramUser, 'id' | 'telegramId' | 'languageCode'>;
  kind: SubscriptionEventKind;
  source: 'update' | 'sync' | 'panel' | 'webhook';
  at: Date;
  detail?: Record<string, unknown>;
  /** The bot message this change sends the client; `dedupeKey` names its cause (one cause, one message). */
  message?: { kind: SubscriptionMessageKind; dedupeKey: string; planTitle: string; until: Date | null };
  miniAppUrl: string | undefined;
}

/**
 * Records what changed (the history behind churn and new-subscriber counts), queues the client's
 * message and a metrics recompute, all in the caller's transaction: they commit with the change.
 */
export async function recordSubscriptionChange(tx: EntityManager, change: SubscriptionChange): Promise<void> {
  tx.create(SubscriptionEvent, {
    id: randomUUID(),
    tenantId: change.tenantId,
    userId: change.user.id,
    kind: change.kind,
    at: change.at,
    source: change.source,
    detail: change.detail ?? {},
  });
  if (change.message) {
    const { kind, dedupeKey, planTitle, until } = change.message;
    queueClientMessage(tx, {
      tenantId: change.tenantId,
      user: change.user,
      kind: `subscription_${kind}`,
      dedupeKey,
      now: change.at,
      message: subscriptionMessage(kind, change.user.languageCode ?? null, planTitle, until),
      miniAppUrl: change.miniAppUrl,
    });
  }
  await tx.flush();
  await triggerMetricsRecompute(tx, change.tenantId, change.at);
}
