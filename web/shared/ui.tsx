import type { ReactNode } from 'react';
import { ApiError } from './api.ts';

export function Spinner({ label }: { label: string }) {
  return (
    <div className="row" role="status" aria-live="polite">
      <div className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** An error the user can read: the API's own message, or a plain one for a lost connection. */
export function ErrorBanner({ error, fallback }: { error: unknown; fallback: string }) {
  if (!error) return null;
  const message = error instanceof ApiError && error.status !== 0 ? error.message : fallback;
  return (
    <div className="banner error" role="alert">
      {message}
    </div>
  );
}

export function Section({ title, children, id }: { title?: string; children: ReactNode; id?: string }) {
  return (
    <section className="section" aria-labelledby={title && id ? `${id}-title` : undefined}>
      {title && <h2 id={id ? `${id}-title` : undefined}>{title}</h2>}
      {children}
    </section>
  );
}

/** Shown when a page that needs Telegram's launch parameters is opened in a plain browser. */
export function OutsideTelegram({ title, text }: { title: string; text: string }) {
  return (
    <main className="stack" style={{ padding: 24, maxWidth: 520, margin: '0 auto' }}>
      <h1>{title}</h1>
      <p>{text}</p>
    </main>
  );
}
