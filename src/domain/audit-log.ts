import { randomUUID } from 'node:crypto';
import { AuditLog, TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import { type KeysetPosition, NEWEST_FIRST, olderThan, type Page, toPage } from './keyset.ts';

export type AuditAction =
  | 'application.accept'
  | 'application.reject'
  | 'client.remove'
  | 'admin.grant'
  | 'admin.change'
  | 'admin.revoke'
  | 'broadcast.create'
  | 'plan.create'
  | 'plan.update'
  | 'subscription.cancel'
  | 'payment.refund'
  | 'billing.sync';

/** `billing` is the tenant's billing as a whole (a sync request); it has no target id. */
export type AuditTargetType =
  | 'application'
  | 'user'
  | 'broadcast'
  | 'plan'
  | 'subscription'
  | 'payment'
  | 'billing';

export interface AuditEntry {
  tenantId: string;
  actorId: string;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string | null;
  details?: Record<string, unknown>;
  at?: Date;
}

/**
 * Records an admin action. Pass the action's own transaction: the record is flushed with it, so an
 * action that rolls back leaves no record and a record never describes something that did not happen.
 */
export function writeAudit(tx: EntityManager, entry: AuditEntry): AuditLog {
  return tx.create(AuditLog, {
    id: randomUUID(),
    tenantId: entry.tenantId,
    actorId: entry.actorId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    details: entry.details ?? null,
    createdAt: entry.at ?? new Date(),
  });
}

export interface AuditView {
  id: string;
  action: string;
  actor: { telegramId: string; firstName: string } | null;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

/** Newest first, from a read replica when one is configured. */
export async function listAuditLog(
  em: EntityManager,
  page: { limit: number; after?: KeysetPosition },
): Promise<Page<AuditView>> {
  const rows = await em.find(AuditLog, olderThan(page.after), {
    orderBy: NEWEST_FIRST,
    limit: page.limit + 1,
    connectionType: 'read',
  });
  const { items, next } = toPage(rows, page.limit);
  const actorIds = [...new Set(items.map((row) => row.actorId))];
  const actors = actorIds.length
    ? await em.find(
        TelegramUser,
        { id: { $in: actorIds } },
        { connectionType: 'read', fields: ['telegramId', 'firstName'] },
      )
    : [];
  const actorById = new Map(actors.map((actor) => [actor.id, actor]));
  return {
    next,
    items: items.map((row) => {
      const actor = actorById.get(row.actorId);
      return {
        id: row.id,
        action: row.action,
        actor: actor ? { telegramId: actor.telegramId, firstName: actor.firstName } : null,
        targetType: row.targetType,
        targetId: row.targetId ?? null,
        details: row.details ?? null,
        createdAt: row.createdAt.toISOString(),
      };
    }),
  };
}
