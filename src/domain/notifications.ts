import { randomUUID } from 'node:crypto';
import { Notification, type TelegramUser } from '../db/entities/index.ts';
import type { NotificationButton } from '../db/entities/notification.entity.ts';
import type { EntityManager } from '../db/orm.ts';
import { enqueue } from '../queue/outbox-writer.ts';

export interface NotificationInput {
  tenantId: string;
  user: Pick<TelegramUser, 'id' | 'telegramId'>;
  kind: string;
  dedupeKey: string;
  text: string;
  button: NotificationButton | null;
  now: Date;
}

/**
 * Stores a message for a user and its send job in the caller's transaction, so the message exists
 * exactly when the change that caused it commits. `dedupeKey` (unique per tenant) names that
 * cause: one cause, one message.
 */
export function queueNotification(tx: EntityManager, input: NotificationInput): Notification {
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
  enqueue(tx, 'notifications.send', { tenantId: input.tenantId, notificationId: notification.id }, input.now);
  return notification;
}

/**
 * A client-facing message with an "open the app" button when the Mini App URL is known: the shape
 * of every message a lifecycle sends a client (plan ready, plan failed, accepted).
 */
export function queueClientMessage(
  tx: EntityManager,
  input: Omit<NotificationInput, 'text' | 'button'> & {
    message: { text: string; buttonText: string };
    miniAppUrl: string | undefined;
  },
): Notification {
  const { message, miniAppUrl, ...rest } = input;
  return queueNotification(tx, {
    ...rest,
    text: message.text,
    button: miniAppUrl ? { text: message.buttonText, url: miniAppUrl } : null,
  });
}
