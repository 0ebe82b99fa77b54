import { formatDate } from '../../shared/i18n.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import type { Plan } from '../api-types.ts';
import { useApp } from '../context.tsx';
import { useKeysetList } from '../paging.ts';
import { ShowMore } from '../ShowMore.tsx';
import { ScreenTitle } from './ScreenTitle.tsx';

/** The user's plans, newest first (GET /api/plans, keyset paged); each opens its plan screen. */
export function PlansScreen() {
  const { api, t, language, nav } = useApp();
  const list = useKeysetList<Plan>(api, '/api/plans');
  const plans = list.items;

  return (
    <>
      <ScreenTitle>{t.plansTitle}</ScreenTitle>
      {list.loading && !list.loaded && <Spinner label={t.loading} />}
      <ErrorBanner error={list.error} fallback={t.networkError} />
      {list.loaded && plans.length === 0 && <p>{t.plansEmpty}</p>}
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
      <ShowMore list={list} />
    </>
  );
}
