import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * pending → sending → sent | failed | uncertain. `uncertain` means the request may have reached
 * Telegram before the connection broke: we never resend it, because a message is sent at most once.
 */
export const NOTIFICATION_STATUSES = ['pending', 'sending', 'sent', 'failed', 'uncertain'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export interface NotificationButton {
  text: string;
  url: string;
}

export const NotificationSchema = defineEntity({
  name: 'Notification',
  tableName: 'notification',
  uniques: [{ properties: ['tenantId', 'dedupeKey'] }],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    chatId: p.bigint('string'),
    kind: p.string().length(64),
    /** What caused it, e.g. `plan_ready:<planId>`; unique so one cause yields one message. */
    dedupeKey: p.string().length(200),
    text: p.text(),
    broadcastId: p.uuid().nullable(),
    button: p.json<NotificationButton>().nullable(),
    status: p.enum(NOTIFICATION_STATUSES).default('pending'),
    telegramMessageId: p.bigint('string').nullable(),
    error: p.text().nullable(),
    attempts: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class Notification extends NotificationSchema.class {}
NotificationSchema.setClass(Notification);
