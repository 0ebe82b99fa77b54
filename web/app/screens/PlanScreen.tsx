import { useEffect, useRef } from 'react';
import { formatDate } from '../../shared/i18n.ts';
import { haptic } from '../../shared/telegram.ts';
import { useMainButton } from '../../shared/telegram-hooks.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import type { Plan } from '../api-types.ts';
import { useApp } from '../context.tsx';
import { useLoad, usePoll } from '../hooks.ts';
import { PlanContentView } from './PlanContentView.tsx';
import { ScreenTitle } from './ScreenTitle.tsx';

export const POLL_MS = 2000;

/** One plan: its progress while it is written (polled, no reload), then the plan itself. */
export function PlanScreen({ planId }: { planId: string }) {
  const { api, t, language, nav, refreshMe } = useApp();
  const plan = useLoad(() => api.get<Plan>(`/api/plans/${planId}`), planId);
  const status = plan.data?.status;
  const pending = status === 'queued' || status === 'generating';
  usePoll(async () => plan.setData(await api.get<Plan>(`/api/plans/${planId}`)), POLL_MS, pending);

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
          <Spinner label={data.status === 'queued' ? t.planQueued : t.planGenerating} />
          <p className="hint">{t.planWaitHint}</p>
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
