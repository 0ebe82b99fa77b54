import { formatDate } from '../../shared/i18n.ts';
import { ErrorBanner, Spinner } from '../../shared/ui.tsx';
import type { TestResult } from '../api-types.ts';
import { RESULT_KEYS } from '../check-in-rules.ts';
import { useApp } from '../context.tsx';
import { useKeysetList } from '../paging.ts';
import { ShowMore } from '../ShowMore.tsx';
import { CheckInForm } from './CheckInForm.tsx';
import { ScreenTitle } from './ScreenTitle.tsx';

/** Check-ins and fitness tests: the form to record one, and the earlier ones (GET /api/test-results). */
export function CheckInsScreen() {
  const { api, t, language } = useApp();
  const list = useKeysetList<TestResult>(api, '/api/test-results');
  const items = list.items;

  return (
    <>
      <ScreenTitle>{t.checkInsTitle}</ScreenTitle>
      <CheckInForm onSaved={list.prepend} />
      <section className="section" aria-labelledby="earlier-entries">
        <h2 id="earlier-entries">{t.earlierEntries}</h2>
        {list.loading && !list.loaded && <Spinner label={t.loading} />}
        <ErrorBanner error={list.error} fallback={t.networkError} />
        {list.loaded && items.length === 0 && <p className="hint">{t.checkInsEmpty}</p>}
        <ul className="entries">
          {items.map((entry) => (
            <li key={entry.id}>
              <div className="row">
                <strong>{t.kinds[entry.kind]}</strong>
                <span className="hint">{formatDate(entry.recordedAt, language, true)}</span>
              </div>
              <div>
                {RESULT_KEYS.filter((key) => entry.results[key] !== undefined)
                  .map((key) => `${t.results[key]}: ${entry.results[key]}`)
                  .join(' · ')}
              </div>
              {entry.notes && <div className="hint">{entry.notes}</div>}
            </li>
          ))}
        </ul>
        <ShowMore list={list} />
      </section>
    </>
  );
}
