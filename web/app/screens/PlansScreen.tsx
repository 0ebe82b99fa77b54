import { useState } from 'react';
import { formatDate } from '../../shared/i18n.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import type { Page, Plan } from '../api-types.ts';
import { useApp } from '../context.tsx';
import { useLoad } from '../hooks.ts';
import { ScreenTitle } from './ScreenTitle.tsx';

/** The user's plans, newest first (GET /api/plans, keyset paged); each opens its plan screen. */
export function PlansScreen() {
  const { api, t, language, nav } = useApp();
  const first = useLoad(() => api.get<Page<Plan>>('/api/plans?limit=20'));
  const [more, setMore] = useState<Plan[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(undefined);
  const next = cursor === undefined ? first.data?.nextCursor : cursor;
  const plans = [...(first.data?.items ?? []), ...more];

  async function loadMore() {
    if (!next) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await api.get<Page<Plan>>(`/api/plans?limit=20&cursor=${encodeURIComponent(next)}`);
      setMore((previous) => [...previous, ...page.items]);
      setCursor(page.nextCursor);
    } catch (caught) {
      setMoreError(caught);
    } finally {
      setLoadingMore(false);
    }
  }

  return (
    <>
      <ScreenTitle>{t.plansTitle}</ScreenTitle>
      {first.loading && !first.data && <Spinner label={t.loading} />}
      <ErrorBanner error={first.error} fallback={t.networkError} />
      {first.data && plans.length === 0 && <p>{t.plansEmpty}</p>}
      {plans.length > 0 && (
        <ul className="nav-list">
          {plans.map((plan, index) => (
            <li key={plan.id}>
              <button
                type="button"
                className="nav-row"
                onClick={() => nav.open({ name: 'plan', planId: plan.id })}
              >
                <span>
                  {t.createdOn(formatDate(plan.createdAt, language, true))}
                  {index === 0 && <span className="hint"> ({t.latest})</span>}
                </span>
                <span className={`badge status-${plan.status}`}>{t.status[plan.status]}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <ErrorBanner error={moreError} fallback={t.networkError} />
      {next && (
        <button type="button" className="secondary" disabled={loadingMore} onClick={() => void loadMore()}>
          {t.showMore}
        </button>
      )}
    </>
  );
}
