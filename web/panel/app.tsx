import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { type ApiClient, ApiError, createApiClient } from '../shared/api.ts';
import { type Language, pickLanguage } from '../shared/i18n.ts';
import type { TelegramLaunch } from '../shared/telegram.ts';
import { Spinner } from '../shared/ui.tsx';
import { useBackButton } from './back-button.ts';
import { type Panel, PanelContext, type PanelSession, type Permission, personName } from './context.ts';
import { AdminsScreen } from './screens/admins.tsx';
import { ApplicationsScreen } from './screens/applications.tsx';
import { AuditScreen } from './screens/audit.tsx';
import { BroadcastsScreen } from './screens/broadcasts.tsx';
import { ClientsScreen } from './screens/clients.tsx';
import { LoginScreen } from './screens/login.tsx';
import { MetricsScreen } from './screens/metrics.tsx';
import { PlansScreen } from './screens/plans.tsx';
import {
  clearLoginFieldsFromUrl,
  forgetSession,
  loginFieldsFromUrl,
  maybeHasSession,
  rememberSession,
  withAuthHandlers,
} from './session.ts';
import { type Texts, textsFor } from './texts.ts';
import { type LiveStatus, useLiveSocket } from './use-live.ts';

type Tab = keyof Texts['tabs'];

/** Each screen and the permission without which it is not offered at all (docs/panel.md, "Roles"). */
const SCREENS: { tab: Tab; permission: Permission; render: () => ReactNode }[] = [
  { tab: 'applications', permission: 'view_applications', render: () => <ApplicationsScreen /> },
  { tab: 'clients', permission: 'manage_clients', render: () => <ClientsScreen /> },
  { tab: 'metrics', permission: 'view_applications', render: () => <MetricsScreen /> },
  { tab: 'broadcasts', permission: 'manage_clients', render: () => <BroadcastsScreen /> },
  { tab: 'plans', permission: 'view_revenue', render: () => <PlansScreen /> },
  { tab: 'admins', permission: 'manage_admins', render: () => <AdminsScreen /> },
  { tab: 'audit', permission: 'manage_admins', render: () => <AuditScreen /> },
];

type State =
  | { phase: 'booting'; message?: string }
  | { phase: 'login'; error?: string; notice?: string }
  | { phase: 'ready'; session: PanelSession }
  | { phase: 'blocked'; message: string };

function LiveIndicator({ status, t }: { status: LiveStatus; t: Texts }) {
  const label = status === 'live' ? t.live : status === 'off' ? t.offline : t.reconnecting;
  return (
    <span className={`live live-${status}`} role="status" data-live-status={status}>
      <span className="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

function Shell({
  api,
  initData,
  session,
  t,
  language,
  onAuthLost,
  onAccessChanged,
  onLogout,
}: {
  api: ApiClient;
  /** The Mini App's initData, which the live socket authenticates with; undefined: the session cookie. */
  initData: string | undefined;
  session: PanelSession;
  t: Texts;
  language: Language;
  onAuthLost: () => void;
  onAccessChanged: () => void;
  onLogout: (() => void) | undefined;
}) {
  const live = useLiveSocket(initData ? { initData } : { session: true }, onAuthLost, onAccessChanged);
  // Recomputed only when the permissions change (a role change refetches the session), not on
  // every render: effects that depend on the screens must not re-run for nothing.
  const permissions = session.permissions.join(' ');
  const screens = useMemo(
    () => SCREENS.filter((s) => permissions.split(' ').includes(s.permission)),
    [permissions],
  );
  const [tab, setTab] = useState<Tab>(screens[0]?.tab ?? 'applications');
  const panel: Panel = useMemo(
    () => ({
      api,
      t,
      language,
      session,
      live,
      can: (permission) => session.permissions.includes(permission),
    }),
    [api, t, language, session, live],
  );

  // A tab the role no longer has (the role changed while the page was open) falls back to the first.
  const current = screens.find((s) => s.tab === tab) ?? screens[0];
  const firstTab = screens[0]?.tab;
  // Telegram's back button leads back to the first screen; shown on any other one.
  useBackButton(firstTab && current?.tab !== firstTab ? () => setTab(firstTab) : undefined);

  return (
    <PanelContext.Provider value={panel}>
      <div className="shell">
        <header className="topbar">
          <h1>{t.title}</h1>
          <span className="spacer" />
          <LiveIndicator status={live.status} t={t} />
          <span className="who hint">
            {t.signedInAs(personName(session.user), t.roles[session.role] ?? session.role)}
          </span>
          {onLogout && (
            <button type="button" className="secondary" onClick={onLogout}>
              {t.logout}
            </button>
          )}
        </header>
        <nav className="nav" aria-label={t.navLabel}>
          <ul>
            {screens.map((s) => (
              <li key={s.tab}>
                <button
                  type="button"
                  className="nav-item"
                  aria-current={s.tab === current?.tab ? 'page' : undefined}
                  onClick={() => {
                    setTab(s.tab);
                    // Keyboard and screen-reader users land on the new screen's heading.
                    requestAnimationFrame(() => document.getElementById('screen-title')?.focus());
                  }}
                >
                  {t.tabs[s.tab]}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main className="content" aria-labelledby="screen-title" key={current?.tab}>
          {current?.render()}
        </main>
      </div>
    </PanelContext.Provider>
  );
}

function Message({ title, text }: { title: string; text: string }) {
  return (
    <main className="login">
      <div className="login-card">
        <h1>{title}</h1>
        <p role="alert">{text}</p>
      </div>
    </main>
  );
}

/**
 * The two ways in: opened from Telegram (launch parameters → `Authorization: tma`), or a desktop
 * browser with a session cookie from the Login Widget. Which screens are offered comes from
 * GET /api/panel/session's permissions.
 */
export function PanelApp({ launch }: { launch: TelegramLaunch | undefined }) {
  const language = pickLanguage(launch?.user.languageCode);
  const t = textsFor(language);
  const [state, setState] = useState<State>({ phase: 'booting' });
  // Logging out closes the live socket from the server side too; that is not a lost session. The
  // next login comes back through the widget's redirect, a new page load.
  const loggingOut = useRef(false);

  const authLost = useCallback(() => {
    if (loggingOut.current) return;
    if (launch) {
      setState({ phase: 'blocked', message: t.tmaExpired });
    } else {
      forgetSession();
      setState({ phase: 'login', notice: t.sessionEnded });
    }
  }, [launch, t]);

  // The role may change while the page is open (socket closed with 4403, or an API call refused
  // for the role): ask again who the user is, so the tabs, buttons and revenue follow at once.
  const checkingAccess = useRef<'idle' | 'checking' | 'again'>('idle');
  const accessChanged = useCallback(async () => {
    if (loggingOut.current) return;
    // One question at a time; a change reported meanwhile asks once more after it (the answer in
    // flight may predate that change).
    if (checkingAccess.current !== 'idle') {
      checkingAccess.current = 'again';
      return;
    }
    checkingAccess.current = 'checking';
    try {
      const session = await createApiClient(
        launch ? { kind: 'tma', initData: launch.initData } : { kind: 'session' },
      ).get<PanelSession>('/api/panel/session');
      setState((old) =>
        old.phase !== 'ready' || JSON.stringify(old.session) === JSON.stringify(session)
          ? old
          : { phase: 'ready', session },
      );
    } catch (error) {
      if (error instanceof ApiError && error.status === 403) {
        // No role at all any more: a plain screen, nothing of the panel left behind it.
        if (!launch) forgetSession();
        setState({ phase: 'blocked', message: t.accessRevoked });
      } else if (error instanceof ApiError && error.status === 401) authLost();
      // A network error changes nothing: the next refusal or 4403 asks again.
    } finally {
      // Set by another call while this one awaited (TypeScript cannot see that across the await).
      const again = (checkingAccess.current as string) === 'again';
      checkingAccess.current = 'idle';
      if (again) accessChanged();
    }
  }, [launch, t, authLost]);

  const api = useMemo(() => {
    const raw = createApiClient(launch ? { kind: 'tma', initData: launch.initData } : { kind: 'session' });
    return withAuthHandlers(raw, { onUnauthorized: authLost, onForbidden: accessChanged });
  }, [launch, authLost, accessChanged]);

  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t.title;
  }, [language, t]);

  useEffect(() => {
    let cancelled = false;
    const settle = (next: State) => !cancelled && setState(next);
    const loadSession = () =>
      createApiClient(
        launch ? { kind: 'tma', initData: launch.initData } : { kind: 'session' },
      ).get<PanelSession>('/api/panel/session');

    async function boot() {
      if (launch) {
        try {
          settle({ phase: 'ready', session: await loadSession() });
        } catch (error) {
          if (error instanceof ApiError && error.status === 403)
            settle({ phase: 'blocked', message: t.notAnAdmin });
          else if (error instanceof ApiError && error.status === 401)
            settle({ phase: 'blocked', message: t.tmaExpired });
          else settle({ phase: 'blocked', message: t.networkError });
        }
        return;
      }
      const fields = loginFieldsFromUrl();
      if (fields) {
        clearLoginFieldsFromUrl();
        settle({ phase: 'booting', message: t.loginChecking });
        try {
          const login = await createApiClient({ kind: 'session' }).send<{ expiresAt: string }>(
            'POST',
            '/api/panel/session',
            fields,
          );
          rememberSession(login.expiresAt);
        } catch (error) {
          forgetSession();
          const refusal =
            error instanceof ApiError
              ? error.status === 0
                ? t.networkError
                : (t.loginRefused[error.code] ?? error.message)
              : t.loginFailed;
          settle({ phase: 'login', error: refusal });
          return;
        }
      } else if (!maybeHasSession()) {
        settle({ phase: 'login' });
        return;
      }
      try {
        const session = await loadSession();
        settle({ phase: 'ready', session });
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          forgetSession();
          settle({ phase: 'login', ...(error.status === 403 ? { error: t.loginRefused.not_an_admin } : {}) });
        } else settle({ phase: 'login', error: t.networkError });
      }
    }
    boot();
    return () => {
      cancelled = true;
    };
  }, [launch, t]);

  const logout = useCallback(async () => {
    loggingOut.current = true;
    try {
      await createApiClient({ kind: 'session' }).send('DELETE', '/api/panel/session');
    } catch {
      // The cookie may already be gone; the page forgets the session either way.
    }
    forgetSession();
    setState({ phase: 'login', notice: t.loggedOut });
  }, [t]);

  switch (state.phase) {
    case 'booting':
      return (
        <main className="login">
          <Spinner label={state.message ?? t.loading} />
        </main>
      );
    case 'login':
      if (launch) return <Message title={t.title} text={t.openFromBot} />;
      return <LoginScreen t={t} error={state.error} notice={state.notice} />;
    case 'blocked':
      return <Message title={t.title} text={state.message} />;
    case 'ready':
      return (
        <Shell
          api={api}
          initData={launch?.initData}
          session={state.session}
          t={t}
          language={language}
          onAuthLost={authLost}
          onAccessChanged={accessChanged}
          onLogout={state.session.via === 'session' ? logout : undefined}
        />
      );
  }
}
