import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * A trainer panel browser session (Telegram Login Widget login). Only the SHA-256 of the cookie's
 * token is stored, so a leaked table or backup opens nothing. Who it belongs to is the Telegram id:
 * the role is read from telegram_user on every request, never copied here.
 */
export const PanelSessionSchema = defineEntity({
  name: 'PanelSession',
  tableName: 'panel_session',
  indexes: [{ properties: ['expiresAt'] }],
  properties: {
    /** Hex SHA-256 of the token. */
    tokenHash: p.text().primary(),
    tenantId: p.uuid(),
    telegramId: p.bigint('string'),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    /** For the owner's eyes only (which browser); cut to 256 characters. */
    userAgent: p.string().length(256).nullable(),
  },
});
export class PanelSession extends PanelSessionSchema.class {}
PanelSessionSchema.setClass(PanelSession);
