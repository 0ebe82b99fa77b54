import { randomUUID } from 'node:crypto';
import { Notification, Outbox, type TelegramUser } from '../db/entities/index.ts';
import type { NotificationButton } from '../db/entities/notification.entity.ts';
import type { EntityManager } from '../db/orm.ts';

/** The send job of one notification; its id is stable, so publishing twice enqueues it once. */
export function notificationJob(tenantId: string, notificationId: string) {
  return {
    queue: 'notifications',
    jobName: 'notifications.send',
    jobId: `notification-${notificationId}`,
    payload: { tenantId, notificationId },
  };
}

/**
 * Stores a message for a user and its send job in the caller's transaction, so the message exists
 * exactly when the change that caused it commits. `dedupeKey` (unique per tenant) names that
 * cause: one cause, one message.
 */
export function queueNotification(
  tx: EntityManager,
  input: {
    tenantId: string;
    user: Pick<TelegramUser, 'id' | 'telegramId'>;
    kind: string;
    dedupeKey: string;
    text: string;
    button: NotificationButton | null;
    now: Date;
  },
): Notification {
  const notification = tx.create(Notification, {
    id: randomUUID(),
    tenantId: input.tenantId,
    userId: input.user.id,
    chatId: input.user.telegramId,
    kind: input.kind,
    dedupeKey: input.dedupeKey,
    text: input.text,
    button: input.button,
    status: 'pending',
    createdAt: input.now,
    updatedAt: input.now,
  });
  tx.create(Outbox, {
    tenantId: input.tenantId,
    ...notificationJob(input.tenantId, notification.id),
    createdAt: input.now,
  });
  return notification;
}
