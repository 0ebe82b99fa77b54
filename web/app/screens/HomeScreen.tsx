import { formatDate } from '../../shared/i18n.ts';
import { useMainButton } from '../../shared/telegram-hooks.ts';
import { Spinner } from '../../shared/ui.tsx';
import { isPaidUp, type OfferedPlan } from '../api-types.ts';
import { type Screen, useApp } from '../context.tsx';
import { useLoad, usePoll } from '../hooks.ts';
import { PollNotice } from '../PollNotice.tsx';
import { POLL_MS, planPollOptions } from './PlanScreen.tsx';
import { ScreenTitle } from './ScreenTitle.tsx';

/** Where the user stands (no survey, plan being written, plan ready) and the way to everything else. */
export function HomeScreen() {
  const { api, t, language, me, refreshMe, nav } = useApp();
  const offered = useLoad(() => api.get<{ items: OfferedPlan[] }>('/api/subscription-plans'));
  const plan = me.latestPlan;
  const pending = plan?.status === 'queued' || plan?.status === 'generating';
  const poll = usePoll(refreshMe, POLL_MS, pending, planPollOptions(plan?.createdAt));

  const primary: { text: string; screen: Screen } = !plan
    ? { text: t.startSurvey, screen: { name: 'survey' } }
    : plan.status === 'failed'
      ? { text: t.newSurvey, screen: { name: 'survey' } }
      : { text: pending ? t.seeStatus : t.openPlan, screen: { name: 'plan', planId: plan.id } };
  useMainButton({ text: primary.text, onClick: () => nav.open(primary.screen) });

  const subscription = me.subscription;
  const links: { text: string; screen: Screen }[] = [
    ...(plan ? [{ text: t.earlierPlans, screen: { name: 'plans' } as Screen }] : []),
    { text: t.checkIns, screen: { name: 'checkins' } },
    ...((offered.data?.items.length ?? 0) > 0 || isPaidUp(subscription)
      ? [{ text: t.subscription, screen: { name: 'subscription' } as Screen }]
      : []),
  ];

  return (
    <>
      <ScreenTitle>{t.hello(me.firstName)}</ScreenTitle>
      <section className="section stack" aria-label={t.planTitle}>
        {!plan && <p>{t.homeNoPlan}</p>}
        {pending && !poll.stoppedBy && <Spinner label={t.homeGenerating} />}
        {pending && <PollNotice poll={poll} t={t} />}
        {plan?.status === 'ready' && <p>{t.homeReady}</p>}
        {plan?.status === 'failed' && (
          <p className="error-text">
            {t.homeFailed} {plan.error}
          </p>
        )}
        <button type="button" onClick={() => nav.open(primary.screen)}>
          {primary.text}
        </button>
      </section>
      {subscription && isPaidUp(subscription) && subscription.currentPeriodEnd && (
        <p className="hint">
          {t.subscriptionLine(subscription.planTitle, formatDate(subscription.currentPeriodEnd, language))}
        </p>
      )}
      <nav aria-label={t.menu}>
        <ul className="nav-list">
          {links.map((link) => (
            <li key={link.text}>
              <button type="button" className="nav-row" onClick={() => nav.open(link.screen)}>
                <span>{link.text}</span>
                <span aria-hidden="true">›</span>
              </button>
            </li>
          ))}
        </ul>
      </nav>
    </>
  );
}
