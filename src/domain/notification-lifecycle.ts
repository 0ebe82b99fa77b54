import type { Logger } from '../config/logger.ts';
import { Notification } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import { broadcastProgress } from './broadcasts.ts';
import type { ThrottledLiveEvents } from './live-events.ts';
import { userReachability } from './user-reachability.ts';

export interface NotificationEffects {
  metrics: Metrics;
  liveEvents: ThrottledLiveEvents;
  logger: Logger;
}

type Final = 'sent' | 'failed' | 'uncertain';
type Row = Pick<Notification, 'id' | 'tenantId' | 'userId' | 'broadcastId' | 'attempts'>;

/**
 * pending → sending → sent | failed | uncertain (and sending → pending when Telegram surely did
 * not deliver). A row is claimed before the send, so an interrupted send is found `sending` and
 * becomes `uncertain`: at most once, stated in the data. Every transition is conditional, and the
 * final ones count in `notifications_total` and move the broadcast's live progress.
 */
export const notificationLifecycle = {
  /** pending → sending; false if someone else claimed or finished it. */
  async claim(em: EntityManager, row: Row): Promise<boolean> {
    const claimed = await em.nativeUpdate(
      Notification,
      { id: row.id, status: 'pending' },
      { status: 'sending', attempts: row.attempts + 1, updatedAt: new Date() },
    );
    return claimed > 0;
  },

  /** sending → pending: Telegram did not deliver (429, a connection that never reached it). */
  async release(em: EntityManager, row: Row): Promise<void> {
    await em.nativeUpdate(
      Notification,
      { id: row.id, status: 'sending' },
      { status: 'pending', updatedAt: new Date() },
    );
  },

  async sent(em: EntityManager, effects: NotificationEffects, row: Row, telegramMessageId: string) {
    return finish(em, effects, row, 'sending', { status: 'sent', telegramMessageId, sentAt: new Date() });
  },

  /** sending → uncertain: it may have been delivered, so it is never sent again. */
  async uncertain(em: EntityManager, effects: NotificationEffects, row: Row, reason: string) {
    return finish(em, effects, row, 'sending', { status: 'uncertain', error: reason.slice(0, 500) });
  },

  /** → failed from `from` (pending when it was never tried, sending when Telegram refused it). */
  async failed(
    em: EntityManager,
    effects: NotificationEffects,
    row: Row,
    from: 'pending' | 'sending',
    reason: string,
  ) {
    return finish(em, effects, row, from, { status: 'failed', error: reason.slice(0, 500) });
  },

  /** sending → failed because the user blocked the bot; they become unreachable in the same transaction. */
  async blocked(em: EntityManager, effects: NotificationEffects, row: Row) {
    const changed = await em.transactional(async (tx) => {
      await userReachability.blockedBot(tx, { id: row.userId });
      return settle(tx, row, 'sending', { status: 'failed', error: 'user_blocked_bot' });
    });
    // Counted and announced only once committed.
    if (changed) await announce(em, effects, row, 'failed');
    return changed;
  },
};

async function finish(
  em: EntityManager,
  effects: NotificationEffects,
  row: Row,
  from: 'pending' | 'sending',
  outcome: Outcome,
): Promise<boolean> {
  const changed = await settle(em, row, from, outcome);
  if (changed) await announce(em, effects, row, outcome.status);
  return changed;
}

type Outcome = { status: Final } & Partial<Pick<Notification, 'error' | 'telegramMessageId' | 'sentAt'>>;

/** The conditional write of a final status; false when the row was no longer `from`. */
async function settle(
  em: EntityManager,
  row: Row,
  from: 'pending' | 'sending',
  outcome: Outcome,
): Promise<boolean> {
  const updated = await em.nativeUpdate(
    Notification,
    { id: row.id, status: from },
    { ...outcome, updatedAt: new Date() },
  );
  return updated > 0;
}

async function announce(
  em: EntityManager,
  effects: NotificationEffects,
  row: Row,
  status: Final,
): Promise<void> {
  effects.metrics.notifications.inc({ status });
  await reportBroadcastProgress(em, effects, row);
}

/**
 * Live broadcast progress, at most about once a second per broadcast however many workers send,
 * and once when nothing is left pending, so the panel's last number is the final one. Several
 * jobs finishing together can all see nothing pending; a day-long key lets one of them announce
 * it. The pending check uses the (broadcast_id, status) index; full counts run only to publish.
 */
async function reportBroadcastProgress(
  em: EntityManager,
  effects: NotificationEffects,
  row: Row,
): Promise<void> {
  const broadcastId = row.broadcastId;
  if (!broadcastId) return;
  try {
    const unfinished = await em.findOne(
      Notification,
      { broadcastId, status: { $in: ['pending', 'sending'] } },
      { fields: ['id'] },
    );
    const first = unfinished
      ? await effects.liveEvents.throttle(`broadcast:${broadcastId}`, 1_000)
      : await effects.liveEvents.throttle(`broadcast-final:${broadcastId}`, 86_400_000);
    if (!first) return;
    const progress = await broadcastProgress(em, broadcastId);
    if (!progress) return;
    const { total, sent, failed, pending } = progress;
    effects.liveEvents.publish(row.tenantId, {
      type: 'broadcast.progress',
      broadcastId,
      total,
      sent,
      failed,
      pending,
    });
  } catch (error) {
    // The message is already settled; a missed live update must not make the job retry.
    effects.logger.warn(
      { event: 'broadcast_progress_failed', broadcastId, err: String(error) },
      'no live progress',
    );
  }
}
