import { useEffect, useRef } from 'react';
import { formatDate } from '../../shared/i18n.ts';
import { haptic } from '../../shared/telegram.ts';
import { useMainButton } from '../../shared/telegram-hooks.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import type { Plan } from '../api-types.ts';
import { useApp } from '../context.tsx';
import { useLoad, usePoll } from '../hooks.ts';
import { PollNotice } from '../PollNotice.tsx';
import { PlanContentView } from './PlanContentView.tsx';
import { ScreenTitle } from './ScreenTitle.tsx';

export const POLL_MS = 2000;
/** A plan normally takes about a minute; past this the screen says it is taking longer than usual. */
export const OVERDUE_AFTER_MS = 10 * 60_000;
/** ...and asks only every 30 s: the bot messages the user when it is ready anyway. */
export const OVERDUE_POLL_MS = 30_000;

/** usePoll options for a plan created at `createdAt` (counted from its creation, not the screen's). */
export function planPollOptions(createdAt: string | undefined) {
  const since = createdAt ? Date.parse(createdAt) : undefined;
  return {
    since: Number.isNaN(since) ? undefined : since,
    overdueAfterMs: OVERDUE_AFTER_MS,
    overdueMs: OVERDUE_POLL_MS,
  };
}

/** One plan: its progress while it is written (polled, no reload), then the plan itself. */
export function PlanScreen({ planId }: { planId: string }) {
  const { api, t, language, nav, refreshMe } = useApp();
  const plan = useLoad(() => api.get<Plan>(`/api/plans/${planId}`), planId);
  const status = plan.data?.status;
  const pending = status === 'queued' || status === 'generating';
  const poll = usePoll(
    async () => plan.setData(await api.get<Plan>(`/api/plans/${planId}`)),
    POLL_MS,
    pending,
    planPollOptions(plan.data?.createdAt),
  );

  // Telegram buzzes once when a plan the user waited for turns up (or fails).
  const waited = useRef(false);
  useEffect(() => {
    if (pending) waited.current = true;
    else if (waited.current && status) {
      waited.current = false;
      haptic(status === 'ready' ? 'success' : 'error');
      void refreshMe().catch(() => {});
    }
  }, [pending, status, refreshMe]);

  useMainButton(
    status === 'failed'
      ? { text: t.newSurvey, onClick: () => nav.replace({ name: 'survey' }) }
      : status === 'ready'
        ? { text: t.checkIns, onClick: () => nav.open({ name: 'checkins' }) }
        : undefined,
  );

  const data = plan.data;
  return (
    <>
      <ScreenTitle>{t.planTitle}</ScreenTitle>
      {data && <p className="hint">{t.createdOn(formatDate(data.createdAt, language))}</p>}
      {!data && plan.loading && <Spinner label={t.loading} />}
      {!data && plan.error ? (
        <div className="stack">
          <ErrorBanner error={plan.error} fallback={t.networkError} />
          <button type="button" className="secondary" onClick={() => void plan.reload()}>
            {t.retry}
          </button>
        </div>
      ) : null}
      {data && pending && (
        <div className="section stack">
          {/* A stopped poll would never end the spinner: only the notice below is shown then. */}
          {!poll.stoppedBy && <Spinner label={data.status === 'queued' ? t.planQueued : t.planGenerating} />}
          {poll.stoppedBy || poll.overdue ? (
            <PollNotice poll={poll} t={t} />
          ) : (
            <p className="hint">{t.planWaitHint}</p>
          )}
        </div>
      )}
      {data?.status === 'failed' && (
        <div className="stack">
          <div className="banner error" role="alert">
            <strong>{t.planFailed}</strong> {data.error}
          </div>
          <p>{t.planFailedHint}</p>
          <button type="button" onClick={() => nav.replace({ name: 'survey' })}>
            {t.newSurvey}
          </button>
        </div>
      )}
      {data?.status === 'ready' && data.content && (
        <>
          <PlanContentView content={data.content} t={t} />
          <button type="button" className="secondary" onClick={() => nav.open({ name: 'checkins' })}>
            {t.checkIns}
          </button>
        </>
      )}
    </>
  );
}
