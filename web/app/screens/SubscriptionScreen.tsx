import { useState } from 'react';
import { ApiError } from '../../shared/api.ts';
import { formatDate } from '../../shared/i18n.ts';
import { canPayInvoices, haptic, payInvoice } from '../../shared/telegram.ts';
import { useMainButton } from '../../shared/telegram-hooks.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import { isPaidUp, type OfferedPlan } from '../api-types.ts';
import { useApp } from '../context.tsx';
import { sleep, useLoad } from '../hooks.ts';
import type { Texts } from '../texts.ts';
import { ScreenTitle } from './ScreenTitle.tsx';

type Stage =
  | 'idle'
  | 'opening'
  | 'confirming'
  | 'done'
  | 'cancelled'
  | 'failed'
  | 'unsupported'
  | 'timeout'
  | 'slow';

/** How long the page waits for Telegram's payment update to make the subscription active. */
const CONFIRM_TIMEOUT_MS = 60_000;
const CONFIRM_POLL_MS = 1000;

function outcomeText(stage: Stage, t: Texts): { text: string; error: boolean } | undefined {
  switch (stage) {
    case 'done':
      return { text: t.paidActive, error: false };
    case 'cancelled':
      return { text: t.payCancelled, error: true };
    case 'failed':
      return { text: t.payFailed, error: true };
    case 'unsupported':
      return { text: t.payUnsupported, error: true };
    case 'timeout':
      return { text: t.payNoAnswer, error: true };
    case 'slow':
      return { text: t.payNotConfirmed, error: false };
    default:
      return undefined;
  }
}

/**
 * The subscription: its status from GET /api/me, the plans on sale, and paying with Stars. The
 * invoice opens in Telegram; after "paid" the page waits until the bot has recorded the payment.
 */
export function SubscriptionScreen() {
  const { api, t, language, me, refreshMe } = useApp();
  const offered = useLoad(() => api.get<{ items: OfferedPlan[] }>('/api/subscription-plans'));
  const plans = offered.data?.items ?? [];
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [stage, setStage] = useState<Stage>('idle');
  const [failure, setFailure] = useState<unknown>(undefined);
  const selected = plans.find((plan) => plan.id === chosen) ?? plans[0];
  const subscription = me.subscription;
  const paidUp = isPaidUp(subscription);
  const busy = stage === 'opening' || stage === 'confirming';

  async function waitUntilActive(): Promise<boolean> {
    const deadline = Date.now() + CONFIRM_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const fresh = await refreshMe().catch(() => undefined);
      if (fresh && isPaidUp(fresh.subscription)) return true;
      await sleep(CONFIRM_POLL_MS);
    }
    return false;
  }

  async function subscribe() {
    if (!selected || busy) return;
    setFailure(undefined);
    // Outside Telegram (the local launch link in a plain browser) no payment sheet can open: say so
    // before asking the API for an invoice nobody could pay.
    if (!canPayInvoices()) {
      haptic('error');
      setStage('unsupported');
      return;
    }
    setStage('opening');
    try {
      const { invoiceLink } = await api.send<{ invoiceLink: string }>('POST', '/api/subscriptions', {
        planId: selected.id,
      });
      const outcome = await payInvoice(invoiceLink);
      if (outcome === 'paid' || outcome === 'pending') {
        setStage('confirming');
        const active = await waitUntilActive();
        haptic(active ? 'success' : 'error');
        setStage(active ? 'done' : 'slow');
      } else if (outcome === 'timeout') {
        // Telegram never reported the sheet closed: the payment may still have gone through.
        const fresh = await refreshMe().catch(() => undefined);
        const active = fresh ? isPaidUp(fresh.subscription) : false;
        haptic(active ? 'success' : 'error');
        setStage(active ? 'done' : 'timeout');
      } else {
        haptic(outcome === 'cancelled' ? 'tap' : 'error');
        setStage(outcome);
      }
    } catch (caught) {
      haptic('error');
      if (caught instanceof ApiError && caught.code === 'already_subscribed')
        void refreshMe().catch(() => {});
      setFailure(caught);
      setStage('idle');
    }
  }

  useMainButton(
    !paidUp && selected
      ? { text: t.subscribe(selected.priceStars), loading: busy, onClick: () => void subscribe() }
      : undefined,
  );

  const outcome = outcomeText(stage, t);
  return (
    <>
      <ScreenTitle>{t.subscriptionTitle}</ScreenTitle>
      <section className="section stack" aria-labelledby="current-subscription">
        <h2 id="current-subscription">{t.yourSubscription}</h2>
        {subscription ? (
          <>
            <p className="row">
              <strong>{subscription.planTitle}</strong>
              <span className={`badge sub-${subscription.status}`}>{t.subStatus[subscription.status]}</span>
            </p>
            {subscription.currentPeriodEnd && paidUp && (
              <p>{t.paidUntil(formatDate(subscription.currentPeriodEnd, language))}</p>
            )}
            {paidUp && <p className="hint">{subscription.renews ? t.renews : t.doesNotRenew}</p>}
          </>
        ) : (
          <p>{t.noSubscription}</p>
        )}
      </section>
      {outcome && (
        <div
          className={outcome.error ? 'banner error' : 'banner success'}
          role={outcome.error ? 'alert' : 'status'}
        >
          {outcome.text}
        </div>
      )}
      {stage === 'opening' && <Spinner label={t.opening} />}
      {stage === 'confirming' && <Spinner label={t.confirming} />}
      <ErrorBanner error={failure ?? offered.error} fallback={t.networkError} />
      {!paidUp && plans.length > 0 && (
        <section className="section stack" aria-labelledby="plans-on-sale">
          <fieldset className="stack">
            <legend id="plans-on-sale">
              <h2>{t.plansOnSale}</h2>
            </legend>
            {plans.map((plan) => (
              <label key={plan.id} className="choice plan-choice">
                <input
                  type="radio"
                  name="plan"
                  value={plan.id}
                  checked={selected?.id === plan.id}
                  disabled={busy}
                  onChange={() => setChosen(plan.id)}
                />
                <span>
                  <strong>{plan.title}</strong> — {t.perMonth(plan.priceStars)}
                  {plan.description && <span className="hint plan-description">{plan.description}</span>}
                </span>
              </label>
            ))}
          </fieldset>
          {selected && (
            <button type="button" disabled={busy} onClick={() => void subscribe()}>
              {t.subscribe(selected.priceStars)}
            </button>
          )}
        </section>
      )}
    </>
  );
}
