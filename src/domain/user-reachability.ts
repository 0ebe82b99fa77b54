import { TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';

/**
 * Whether we can message a user. Telegram tells us they blocked the bot (a 403 on send, or a
 * `my_chat_member` update with status "kicked"), and that they are back (/start, or "member");
 * nothing is sent to an unreachable user. Every change of it goes through here.
 */
export const userReachability = {
  /** The fields a (re)start writes with the user's profile: a /start means messages arrive again. */
  reachableFields: { unreachableAt: null },

  async blockedBot(em: EntityManager, where: { id: string } | { tenantId: string; telegramId: string }) {
    // Keeps the first time they blocked us, for support questions.
    return em.nativeUpdate(TelegramUser, { ...where, unreachableAt: null }, { unreachableAt: new Date() });
  },

  async reachableAgain(em: EntityManager, where: { tenantId: string; telegramId: string }) {
    return em.nativeUpdate(TelegramUser, where, { unreachableAt: null });
  },
};
