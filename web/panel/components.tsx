import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ErrorBanner, Spinner } from '../shared/ui.tsx';
import { usePanel } from './context.ts';
import type { PagedList } from './use-paged.ts';

/**
 * A destructive or outward action asks first, in place: the button turns into the question with
 * Confirm and Cancel (focus moves to Cancel, the safe choice). No window.confirm: Telegram's
 * webviews do not all show it.
 */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  className = 'secondary',
  disabled,
}: {
  label: string;
  question: string;
  onConfirm: () => Promise<unknown> | undefined;
  className?: string;
  disabled?: boolean;
}) {
  const { t } = usePanel();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) cancelRef.current?.focus();
  }, [asking]);

  if (!asking)
    return (
      <>
        <button
          type="button"
          ref={openerRef}
          className={className}
          disabled={disabled}
          onClick={() => {
            setError(undefined);
            setAsking(true);
          }}
        >
          {label}
        </button>
        <ErrorBanner error={error} fallback={t.networkError} />
      </>
    );
  return (
    <fieldset className="confirm">
      <legend className="confirm-question">{question}</legend>
      <div className="row">
        <button
          type="button"
          className={className === 'danger' ? 'danger-solid' : undefined}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            Promise.resolve(onConfirm())
              .then(() => setAsking(false))
              .catch((e: unknown) => {
                setError(e);
                setAsking(false);
              })
              .finally(() => setBusy(false));
          }}
        >
          {t.confirm}: {label}
        </button>
        <button type="button" className="secondary" ref={cancelRef} onClick={() => setAsking(false)}>
          {t.cancel}
        </button>
      </div>
    </fieldset>
  );
}

/** Loading, error, empty and "Load more" around a keyset-paged list. */
export function ListFooter<T>({ list, empty }: { list: PagedList<T>; empty: string }) {
  const { t } = usePanel();
  return (
    <div className="list-footer">
      <ErrorBanner error={list.error} fallback={t.networkError} />
      {list.error !== undefined && !list.loading && (
        <button type="button" className="secondary" onClick={list.reload}>
          {t.retry}
        </button>
      )}
      {list.loading && <Spinner label={t.loading} />}
      {!list.loading && !list.error && list.items.length === 0 && <p className="hint">{empty}</p>}
      {!list.loading && list.hasMore && (
        <button type="button" className="secondary" onClick={list.loadMore}>
          {t.loadMore}
        </button>
      )}
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'warn' | 'bad' | 'neutral'; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** A screen's heading and, on the right, anything the screen puts there (filters, counters). */
export function ScreenHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="screen-header">
      <h2 id="screen-title" tabIndex={-1}>
        {title}
      </h2>
      {children}
    </div>
  );
}
