import { defineEntity, p } from '@mikro-orm/postgresql';

export const ADMIN_ROLES = ['owner', 'trainer', 'support'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export const TelegramUserSchema = defineEntity({
  name: 'TelegramUser',
  tableName: 'telegram_user',
  uniques: [{ properties: ['tenantId', 'telegramId'] }],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    /** 64-bit Telegram id, kept as a decimal string in JS. */
    telegramId: p.bigint('string'),
    firstName: p.string().length(256).default(''),
    lastName: p.string().length(256).nullable(),
    username: p.string().length(64).nullable(),
    languageCode: p.string().length(16).nullable(),
    isPremium: p.boolean().default(false),
    role: p.enum(ADMIN_ROLES).nullable(),
    /** The owner role was written from TELEGRAM_ADMINS; removing the id there revokes it at boot. */
    roleFromConfig: p.boolean().default(false),
    /** Admins get a bot message for each new application unless they turn it off. */
    notifyNewApplications: p.boolean().default(true),
    isClient: p.boolean().default(false),
    /** Set when Telegram answers 403 (blocked/deactivated); cleared on /start. */
    unreachableAt: p.datetime().nullable(),
    lastSeenAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class TelegramUser extends TelegramUserSchema.class {}
TelegramUserSchema.setClass(TelegramUser);
