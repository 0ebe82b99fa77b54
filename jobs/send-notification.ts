import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { z } from 'zod';
import { Notification, TelegramUser } from '../src/db/entities/index.ts';
import { type EntityManager, forkForTenant } from '../src/db/orm.ts';
import { broadcastProgress } from '../src/domain/broadcasts.ts';
import {
  TelegramBadRequestError,
  TelegramChatNotFoundError,
  TelegramNetworkError,
  TelegramRateLimitedError,
  TelegramUnauthorizedError,
  TelegramUserBlockedError,
} from '../src/telegram/telegram-errors.ts';

const UNAUTHORIZED_PAUSE_MS = 60_000;

import { defineJob, type JobContext, type JobDeps } from './job-definition.ts';

const payloadSchema = z.object({
  tenantId: z.uuid(),
  notificationId: z.uuid(),
  /** Set by the pacer when it reserved this chat's slot and delayed the job until then. */
  sendSlotAt: z.number().optional(),
});

type Outcome = Pick<Notification, 'status'> &
  Partial<Pick<Notification, 'error' | 'telegramMessageId' | 'sentAt'>>;

async function finish(em: EntityManager, id: string, outcome: Outcome): Promise<void> {
  await em.nativeUpdate(Notification, { id, status: 'sending' }, { ...outcome, updatedAt: new Date() });
}

/**
 * Sends one stored notification, at most once. The row is claimed (pending → sending) before the
 * call; a job that finds it still `sending` was interrupted mid-send, and since Telegram may have
 * delivered it, the row becomes `uncertain` instead of being sent again.
 */
export const sendNotificationJob = defineJob({
  name: 'notifications.send',
  payload: payloadSchema,

  async handle({ tenantId, notificationId, sendSlotAt }, deps, ctx) {
    const em = forkForTenant(deps.orm, tenantId);
    const notification = await em.findOne(Notification, { id: notificationId });
    if (!notification || notification.status === 'sent' || notification.status === 'failed') return;
    if (notification.status === 'uncertain') return;
    if (notification.status === 'sending') {
      await finish(em, notificationId, {
        status: 'uncertain',
        error: 'interrupted while sending; not resent',
      });
      ctx.log.warn(
        { event: 'notification_failed', notificationId, reason: 'interrupted' },
        'notification uncertain',
      );
      deps.metrics?.notifications.inc({ status: 'uncertain' });
      await reportBroadcastProgress(em, deps, tenantId, notification.broadcastId);
      return;
    }
    const user = await em.findOne(TelegramUser, { id: notification.userId });
    if (!user || user.unreachableAt) {
      await em.nativeUpdate(
        Notification,
        { id: notificationId, status: 'pending' },
        { status: 'failed', error: 'user_unreachable', updatedAt: new Date() },
      );
      deps.metrics?.notifications.inc({ status: 'failed' });
      await reportBroadcastProgress(em, deps, tenantId, notification.broadcastId);
      return;
    }

    // Wait for the planned send time first and claim only then: a worker that dies while waiting
    // (a busy chat, a 429 pause of up to retry_after) leaves the row `pending`, so whoever runs the
    // job next still sends it. A chat busy for a while sends the job back to the delayed set (no
    // attempt spent, no worker held) holding its reserved slot.
    const pace = await deps.pacer.reserve(notification.chatId, sendSlotAt);
    if (pace.kind === 'delay') {
      await ctx.delay(pace.delayMs, { sendSlotAt: pace.slot });
    } else if (pace.waitMs > 0) {
      await sleep(pace.waitMs);
    }

    // From here until Telegram answers, a crash may or may not have delivered the message.
    const claimed = await em.nativeUpdate(
      Notification,
      { id: notificationId, status: 'pending' },
      { status: 'sending', attempts: notification.attempts + 1, updatedAt: new Date() },
    );
    if (claimed === 0) return;

    let finalStatus: 'sent' | 'failed' | 'uncertain' = 'sent';
    try {
      const { messageId } = await deps.telegram.sendMessage({
        chatId: notification.chatId,
        text: notification.text,
        ...(notification.button ? { openAppButton: notification.button } : {}),
        pace: (partIndex, send) => paceSend(deps.pacer, notification.chatId, partIndex, send),
      });
      await finish(em, notificationId, {
        status: 'sent',
        telegramMessageId: String(messageId),
        sentAt: new Date(),
      });
      ctx.log.info(
        { event: 'notification_sent', notificationId, kind: notification.kind },
        'notification sent',
      );
    } catch (error) {
      finalStatus = await handleSendError(em, notificationId, notification.userId, error, {
        ...ctx,
        pacer: deps.pacer,
      });
    }
    deps.metrics?.notifications.inc({ status: finalStatus });
    // Reached only once the row is final: handleSendError throws for everything that will be retried.
    await reportBroadcastProgress(em, deps, tenantId, notification.broadcastId);
  },

  async onFinalFailure({ tenantId, notificationId }, deps, error) {
    const em = forkForTenant(deps.orm, tenantId);
    const updated = await em.nativeUpdate(
      Notification,
      { id: notificationId, status: 'pending' },
      { status: 'failed', error: error.message.slice(0, 500), updatedAt: new Date() },
    );
    deps.logger.warn(
      { event: 'notification_failed', notificationId, cause: error.message },
      'notification failed',
    );
    if (updated > 0) deps.metrics?.notifications.inc({ status: 'failed' });
    if (updated > 0 && deps.liveEvents) {
      const row = await em.findOne(Notification, { id: notificationId }, { fields: ['broadcastId'] });
      await reportBroadcastProgress(em, deps, tenantId, row?.broadcastId ?? null);
    }
  },
});

/**
 * Live broadcast progress, at most about once a second per broadcast however many workers send,
 * and once when nothing is left pending, so the panel's last number is the final one. Several
 * jobs finishing together can all see nothing pending; a day-long key lets one of them announce
 * it. The pending check uses the (broadcast_id, status) index; the full counts run only when
 * publishing.
 */
async function reportBroadcastProgress(
  em: EntityManager,
  deps: JobDeps,
  tenantId: string,
  broadcastId: string | null | undefined,
): Promise<void> {
  const live = deps.liveEvents;
  if (!live || !broadcastId) return;
  try {
    const unfinished = await em.findOne(
      Notification,
      { broadcastId, status: { $in: ['pending', 'sending'] } },
      { fields: ['id'] },
    );
    const first = unfinished
      ? await live.throttle(`broadcast:${broadcastId}`, 1_000)
      : await live.throttle(`broadcast-final:${broadcastId}`, 86_400_000);
    if (!first) return;
    const progress = await broadcastProgress(em, broadcastId);
    if (!progress) return;
    const { total, sent, failed, pending } = progress;
    live.publish(tenantId, { type: 'broadcast.progress', broadcastId, total, sent, failed, pending });
  } catch (error) {
    // The message is already sent or settled; a missed live update must not make the job retry.
    deps.logger.warn(
      { event: 'broadcast_progress_failed', broadcastId, err: String(error) },
      'no live progress',
    );
  }
}

async function handleSendError(
  em: EntityManager,
  id: string,
  userId: string,
  error: unknown,
  ctx: JobContext & { pacer: JobDeps['pacer'] },
): Promise<'failed' | 'uncertain'> {
  const release = () =>
    em.nativeUpdate(Notification, { id, status: 'sending' }, { status: 'pending', updatedAt: new Date() });

  if (error instanceof TelegramRateLimitedError) {
    // Telegram did not deliver; hold every worker back for retry_after, without spending an attempt.
    await release();
    await Promise.all([ctx.pacer.pauseAll(error.retryAfterMs), ctx.pauseQueue(error.retryAfterMs)]);
    ctx.log.warn(
      { event: 'telegram_rate_limited', retryAfterMs: error.retryAfterMs },
      'Telegram asked to slow down',
    );
    throw Worker.RateLimitError();
  }
  if (error instanceof TelegramUserBlockedError) {
    await em.transactional(async (tx) => {
      await finish(tx, id, { status: 'failed', error: 'user_blocked_bot' });
      await tx.nativeUpdate(TelegramUser, { id: userId }, { unreachableAt: new Date() });
    });
    ctx.log.info(
      { event: 'notification_failed', notificationId: id, reason: 'blocked' },
      'user blocked the bot',
    );
    return 'failed';
  }
  if (error instanceof TelegramUnauthorizedError) {
    // The bot token is wrong or revoked: every message would fail the same way. Keep them all
    // pending and check again in a minute, instead of failing every notification for good.
    await release();
    await Promise.all([ctx.pacer.pauseAll(UNAUTHORIZED_PAUSE_MS), ctx.pauseQueue(UNAUTHORIZED_PAUSE_MS)]);
    ctx.log.error({ event: 'telegram_unauthorized' }, 'Telegram rejected the bot token; sending paused');
    throw Worker.RateLimitError();
  }
  if (error instanceof TelegramChatNotFoundError || error instanceof TelegramBadRequestError) {
    await finish(em, id, { status: 'failed', error: error.message.slice(0, 500) });
    ctx.log.warn(
      { event: 'notification_failed', notificationId: id, reason: error.name },
      'notification refused',
    );
    return 'failed';
  }
  if (error instanceof TelegramNetworkError && error.mayHaveBeenDelivered) {
    await finish(em, id, { status: 'uncertain', error: error.message.slice(0, 500) });
    ctx.log.warn(
      { event: 'notification_failed', notificationId: id, reason: 'uncertain' },
      'delivery unknown',
    );
    return 'uncertain';
  }
  // Server errors and connections that never reached Telegram: safe to try again.
  await release();
  throw error;
}

/**
 * Every request goes through the pacer's guard; parts after the first of a split text are
 * messages of their own for Telegram's limits, so each first waits for a planned slot.
 */
async function paceSend<T>(
  pacer: JobDeps['pacer'],
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
