import type { Subscription } from '../db/entities/index.ts';
import type { SubscriptionStatus } from '../db/entities/subscription.entity.ts';
import type { SubscriptionEventKind } from '../db/entities/subscription-event.entity.ts';
import type { RemoteSubscription } from './http-billing-provider.ts';

/**
 * What the external billing service's answer means for one user's local row: nothing, a quiet
 * write (a detail changed, or a subscription that was already over when we first saw it: no
 * event, so churn is not counted for it), or a write with the events it stands for.
 */
export type MirrorDecision =
  | { write: false }
  | { write: true; remote: RemoteSubscription | null; events: SubscriptionEventKind[]; started: boolean };

const NOTHING: MirrorDecision = { write: false };

const isLive = (status: SubscriptionStatus) => status === 'active' || status === 'cancelled';

export function decideMirror(local: Subscription | null, remote: RemoteSubscription | null): MirrorDecision {
  // A Stars subscription someone is still paid up on is money Telegram holds: the external
  // service has no say over it. Once it has ended, the service's answer may replace it.
  if (local?.provider === 'stars' && isLive(local.status)) return NOTHING;
  const localHttp = local?.provider === 'http' ? local : null;

  if (!remote) {
    // Gone from the service while live here: it ended there.
    if (localHttp && isLive(localHttp.status))
      return { write: true, remote: null, events: ['expired'], started: false };
    return NOTHING;
  }
  if (!localHttp) {
    // Nothing here (or an ended Stars row): a live one starts; an ended one is mirrored quietly.
    if (isLive(remote.status)) return { write: true, remote, events: ['started'], started: true };
    return local ? NOTHING : { write: true, remote, events: [], started: false };
  }
  if (same(localHttp, remote)) return NOTHING;

  const was = localHttp.status;
  const now = remote.status;
  const events: SubscriptionEventKind[] = [];
  if (!isLive(was) && isLive(now)) return { write: true, remote, events: ['started'], started: true };
  if (isLive(was) && !isLive(now)) events.push(now === 'refunded' ? 'refunded' : 'expired');
  else if (isLive(was)) {
    const localEnd = localHttp.currentPeriodEnd ?? null;
    const endMovedForward =
      remote.currentPeriodEnd !== null && (localEnd === null || remote.currentPeriodEnd > localEnd);
    if (endMovedForward) events.push('renewed');
    if (was === 'active' && now === 'cancelled') events.push('cancelled');
    if (events.length === 0) events.push('changed');
  } else if (was !== now) {
    // From one ended state to another (an expired period refunded later).
    events.push(now === 'refunded' ? 'refunded' : 'changed');
  }
  return { write: true, remote, events, started: false };
}

function same(local: Subscription, remote: RemoteSubscription): boolean {
  return (
    local.status === remote.status &&
    local.planTitle === remote.planTitle &&
    local.renews === remote.renews &&
    local.price === remote.price &&
    local.currency === remote.currency &&
    (local.currentPeriodEnd?.getTime() ?? null) === (remote.currentPeriodEnd?.getTime() ?? null)
  );
}
