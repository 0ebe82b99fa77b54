import { type FormEvent, useEffect, useState } from 'react';
import { haptic } from '../../shared/telegram.ts';
import { ErrorBanner, Section } from '../../shared/ui.tsx';
import { ScreenHeader } from '../components.tsx';
import { usePanel } from '../context.ts';
import { retryDelay } from '../retry.ts';

interface Progress {
  id: string;
  status: 'fanning_out' | 'sending' | 'completed';
  segment: string;
  total: number;
  sent: number;
  failed: number;
  pending: number;
  createdAt?: string;
}

const SEGMENTS = ['clients', 'applicants', 'all'] as const;
const POLL_MS = 1_000;
const RETRY_MS = 3_000;

/**
 * The API has no list of past broadcasts, and the screen is unmounted on every tab switch, so the
 * broadcasts sent from this browser tab are kept in sessionStorage (ids and a short preview of the
 * text, nothing else): their progress bars come back after a tab switch or a reload.
 */
const STORAGE_KEY = 'coach-panel-broadcasts';
const KEEP = 20;
const PREVIEW_CHARS = 280;

type Sent = { id: string; text: string };

function loadSent(): Sent[] {
  try {
    const parsed: unknown = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((b): b is Sent => typeof b?.id === 'string' && typeof b?.text === 'string');
  } catch {
    // Storage disabled or garbled: the page only shows what is sent from now on.
    return [];
  }
}

function storeSent(sent: Sent[]): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(sent.slice(0, KEEP)));
  } catch {}
}

function preview(text: string): string {
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}

/** One broadcast's progress: polled from GET /api/panel/broadcasts/:id until finished, live events on top. */
function BroadcastProgress({ id, text }: { id: string; text: string }) {
  const { api, t, live } = usePanel();
  const [progress, setProgress] = useState<Progress>();
  const [error, setError] = useState<unknown>();
  const finished = progress?.status === 'completed';

  useEffect(() => {
    if (finished) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout>;
    let failures = 0;
    const poll = () => {
      api
        .get<Progress>(`/api/panel/broadcasts/${id}`)
        .then((p) => {
          if (cancelled) return;
          failures = 0;
          setError(undefined);
          setProgress(p);
          if (p.status !== 'completed') timer = setTimeout(poll, POLL_MS);
        })
        .catch((e: unknown) => {
          if (cancelled) return;
          setError(e);
          // 403/404 stay that way (role taken away, broadcast of another tenant): stop and say so.
          const delay = retryDelay(e, failures, RETRY_MS);
          failures += 1;
          if (delay !== undefined) timer = setTimeout(poll, delay);
        });
    };
    poll();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, id, finished]);

  useEffect(
    () =>
      live.subscribe((event) => {
        if (event.type !== 'broadcast.progress' || event.broadcastId !== id) return;
        // Only ever forward: a poll answer and an event may arrive in either order.
        setProgress((old) =>
          old && old.status !== 'completed' && event.sent + event.failed >= old.sent + old.failed
            ? { ...old, ...event, status: old.status === 'fanning_out' ? 'sending' : old.status }
            : old,
        );
      }),
    [live, id],
  );

  const done = progress ? progress.sent + progress.failed : 0;
  const total = progress?.total ?? 0;
  const percent = total > 0 ? Math.round((done / total) * 100) : finished ? 100 : 0;
  const labelId = `broadcast-${id}-label`;
  return (
    <li className="card">
      <p className="broadcast-text">{text}</p>
      <p id={labelId} className="hint">
        {t.progressLabel}: {progress ? t.broadcastStatus[progress.status] : t.loading}
      </p>
      <div
        className="progress"
        role="progressbar"
        aria-labelledby={labelId}
        aria-valuemin={0}
        aria-valuemax={Math.max(total, 1)}
        aria-valuenow={total > 0 ? done : finished ? 1 : 0}
        aria-valuetext={progress ? t.progressText(done, total, progress.failed) : t.loading}
        data-status={progress?.status ?? 'loading'}
      >
        <div className="progress-bar" style={{ width: `${percent}%` }} />
      </div>
      <p aria-live="polite">{progress && t.progressText(done, total, progress.failed)}</p>
      <ErrorBanner error={error} fallback={t.networkError} />
    </li>
  );
}

export function BroadcastsScreen() {
  const { api, t } = usePanel();
  const [segment, setSegment] = useState<(typeof SEGMENTS)[number]>('clients');
  const [text, setText] = useState('');
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [sent, setSent] = useState<Sent[]>(loadSent);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!text.trim()) return;
    setAsking(true);
  }

  async function send() {
    setBusy(true);
    setError(undefined);
    try {
      const { id } = await api.send<{ id: string }>('POST', '/api/panel/broadcasts', { text, segment });
      haptic('success');
      setSent((old) => {
        const next = [{ id, text: preview(text) }, ...old].slice(0, KEEP);
        storeSent(next);
        return next;
      });
      setText('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setAsking(false);
    }
  }

  return (
    <>
      <ScreenHeader title={t.tabs.broadcasts} />
      <Section title={t.composeTitle} id="compose">
        <form className="stack" onSubmit={submit}>
          <div>
            <label htmlFor="broadcast-segment">{t.segment}</label>
            <select
              id="broadcast-segment"
              value={segment}
              onChange={(e) => setSegment(e.target.value as typeof segment)}
            >
              {SEGMENTS.map((s) => (
                <option key={s} value={s}>
                  {t.segments[s]}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="broadcast-text">{t.message}</label>
            <textarea
              id="broadcast-text"
              value={text}
              required
              maxLength={16_384}
              aria-describedby="broadcast-text-hint"
              onChange={(e) => setText(e.target.value)}
            />
            <p id="broadcast-text-hint" className="hint">
              {t.messageHint}
            </p>
          </div>
          <ErrorBanner error={error} fallback={t.networkError} />
          {asking ? (
            <fieldset className="confirm">
              <legend className="confirm-question">{t.confirmSend(t.segments[segment] ?? segment)}</legend>
              <div className="row">
                <button type="button" disabled={busy} onClick={send}>
                  {t.confirm}: {t.send}
                </button>
                <button type="button" className="secondary" onClick={() => setAsking(false)}>
                  {t.cancel}
                </button>
              </div>
            </fieldset>
          ) : (
            <div className="row">
              <button type="submit" disabled={!text.trim()}>
                {t.send}
              </button>
            </div>
          )}
        </form>
      </Section>
      <Section title={t.sentTitle} id="sent">
        {sent.length === 0 ? (
          <p className="hint">{t.noBroadcasts}</p>
        ) : (
          <ul className="cards">
            {sent.map((b) => (
              <BroadcastProgress key={b.id} id={b.id} text={b.text} />
            ))}
          </ul>
        )}
      </Section>
    </>
  );
}
