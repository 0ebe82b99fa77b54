import { setTimeout as sleep } from 'node:timers/promises';
import { Notification, TelegramUser } from '../src/db/entities/index.ts';
import { type EntityManager, forkForTenant } from '../src/db/orm.ts';
import { notificationLifecycle as lifecycle } from '../src/domain/notification-lifecycle.ts';
import {
  TelegramBadRequestError,
  TelegramChatNotFoundError,
  TelegramNetworkError,
  TelegramRateLimitedError,
  TelegramUnauthorizedError,
  TelegramUserBlockedError,
} from '../src/telegram/telegram-errors.ts';
import type { TenantBot } from '../workers/tenant-bots.ts';
import { defineJob, type JobContext, type JobDeps } from './job-definition.ts';

const UNAUTHORIZED_PAUSE_MS = 60_000;
/** A tenant without a usable bot: its messages wait this long before looking again. */
const NO_BOT_RECHECK_MS = 60_000;

/**
 * notifications.send: sends one stored notification, at most once (src/domain/notification-lifecycle.ts).
 * The row is claimed (pending → sending) before the call; a job that finds it still `sending`
 * was interrupted mid-send, and since Telegram may have delivered it, it becomes `uncertain`.
 */
export const sendNotificationJob = defineJob('notifications.send', {
  async handle({ tenantId, notificationId, sendSlotAt }, deps, ctx) {
    const found = await deps.bots.botFor(tenantId);
    if (found.kind === 'unknown_tenant') return ctx.fail(`tenant ${tenantId} no longer exists`);
    if (found.kind === 'no_bot') {
      // Nothing is wrong with the message: it waits (pending) until the coach's bot is fixed.
      ctx.log.warn(
        {
          event: 'notification_waiting_for_bot',
          tenant: found.tenant.slug,
          notificationId,
          reason: found.reason,
        },
        'tenant has no usable bot; the message waits',
      );
      return ctx.delay(NO_BOT_RECHECK_MS);
    }
    const bot = found.bot;
    const em = forkForTenant(deps.orm, tenantId);
    const notification = await em.findOne(Notification, { id: notificationId });
    if (!notification || ['sent', 'failed', 'uncertain'].includes(notification.status)) return;
    if (notification.status === 'sending') {
      await lifecycle.uncertain(em, deps, notification, 'interrupted while sending; not resent');
      ctx.log.warn(
        { event: 'notification_failed', notificationId, reason: 'interrupted' },
        'notification uncertain',
      );
      return;
    }
    const user = await em.findOne(TelegramUser, { id: notification.userId });
    if (!user || user.unreachableAt) {
      await lifecycle.failed(em, deps, notification, 'pending', 'user_unreachable');
      return;
    }

    // Wait for the planned send time first and claim only then: a worker that dies while waiting
    // leaves the row `pending`, so whoever runs the job next still sends it. A slot further away
    // (a busy chat, this bot's broadcast backlog, a 429 pause) sends the job back to the delayed
    // set (no attempt spent, no worker held) holding its reserved slot.
    const pace = await bot.pacer.reserve(notification.chatId, sendSlotAt);
    if (pace.kind === 'delay') return ctx.delay(pace.delayMs, { sendSlotAt: pace.slot });
    if (pace.waitMs > 0) await sleep(pace.waitMs);

    // From here until Telegram answers, a crash may or may not have delivered the message.
    if (!(await lifecycle.claim(em, notification))) return;
    try {
      const { messageId } = await bot.telegram.sendMessage({
        chatId: notification.chatId,
        text: notification.text,
        ...(notification.button ? { openAppButton: notification.button } : {}),
        pace: (partIndex, send) => paceSend(bot.pacer, notification.chatId, partIndex, send),
      });
      await lifecycle.sent(em, deps, notification, String(messageId));
      ctx.log.info(
        { event: 'notification_sent', notificationId, kind: notification.kind },
        'notification sent',
      );
    } catch (error) {
      await handleSendError(em, deps, bot, ctx, notification, error);
    }
  },

  async onFinalFailure({ tenantId, notificationId }, deps, error) {
    const em = forkForTenant(deps.orm, tenantId);
    const row = await em.findOne(Notification, { id: notificationId });
    deps.logger.warn(
      { event: 'notification_failed', notificationId, cause: error.message },
      'notification failed',
    );
    if (!row) return false;
    // Given up while claimed: Telegram may have delivered it, so it is never sent again.
    if (row.status === 'sending') return lifecycle.uncertain(em, deps, row, `interrupted: ${error.message}`);
    return lifecycle.failed(em, deps, row, 'pending', error.message);
  },
});

/** Settles the row for what Telegram said; throws (through ctx) for everything that will be retried. */
async function handleSendError(
  em: EntityManager,
  deps: JobDeps,
  bot: TenantBot,
  ctx: JobContext,
  notification: Notification,
  error: unknown,
): Promise<void> {
  const id = notification.id;
  const tenant = bot.tenant.slug;
  // Telegram's limits and tokens are per bot: a 429 or 401 pauses this bot's pacer only (its other
  // messages are then delayed, holding no worker) and never the queue every tenant shares.
  if (error instanceof TelegramRateLimitedError) {
    // Telegram did not deliver; no attempt spent.
    await lifecycle.release(em, notification);
    await bot.pacer.pauseAll(error.retryAfterMs);
    ctx.log.warn(
      { event: 'telegram_rate_limited', tenant, retryAfterMs: error.retryAfterMs },
      'Telegram asked to slow down',
    );
    return ctx.delay(error.retryAfterMs);
  }
  if (error instanceof TelegramUserBlockedError) {
    await lifecycle.blocked(em, deps, notification);
    ctx.log.info(
      { event: 'notification_failed', notificationId: id, reason: 'blocked' },
      'user blocked the bot',
    );
    return;
  }
  if (error instanceof TelegramUnauthorizedError) {
    // The bot token is wrong or revoked: every message would fail the same way. Keep them all
    // pending and check again in a minute, instead of failing every notification for good.
    await lifecycle.release(em, notification);
    await bot.pacer.pauseAll(UNAUTHORIZED_PAUSE_MS);
    ctx.log.error(
      { event: 'telegram_unauthorized', tenant },
      "Telegram rejected the tenant's bot token; its sending paused",
    );
    return ctx.delay(UNAUTHORIZED_PAUSE_MS);
  }
  if (error instanceof TelegramChatNotFoundError || error instanceof TelegramBadRequestError) {
    await lifecycle.failed(em, deps, notification, 'sending', error.message);
    ctx.log.warn(
      { event: 'notification_failed', notificationId: id, reason: error.name },
      'notification refused',
    );
    return;
  }
  if (error instanceof TelegramNetworkError && error.mayHaveBeenDelivered) {
    await lifecycle.uncertain(em, deps, notification, error.message);
    ctx.log.warn(
      { event: 'notification_failed', notificationId: id, reason: 'uncertain' },
      'delivery unknown',
    );
    return;
  }
  // Server errors and connections that never reached Telegram: safe to try again.
  await lifecycle.release(em, notification);
  throw error;
}

/**
 * Every request goes through the pacer's guard; parts after the first of a split text are
 * messages of their own for Telegram's limits, so each first waits for a planned slot.
 */
async function paceSend<T>(
  pacer: TenantBot['pacer'],
  chatId: string,
  partIndex: number,
  send: () => Promise<T>,
): Promise<T> {
  if (partIndex > 0) {
    let pace = await pacer.reserve(chatId);
    while (pace.kind === 'delay') {
      await sleep(pace.delayMs);
      pace = await pacer.reserve(chatId, pace.slot);
    }
    if (pace.waitMs > 0) await sleep(pace.waitMs);
  }
  return pacer.around(chatId, send);
}
