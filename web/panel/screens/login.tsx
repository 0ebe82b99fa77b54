import { useEffect, useRef, useState } from 'react';
import { createApiClient } from '../../shared/api.ts';
import { Spinner } from '../../shared/ui.tsx';
import type { Texts } from '../texts.ts';

export const TELEGRAM_WIDGET_SCRIPT = 'https://telegram.org/js/telegram-widget.js?22';

/**
 * Telegram's Login Widget: its script (allowed by the page's CSP) puts an oauth.telegram.org
 * iframe in place; after the user confirms in Telegram, the browser comes back to /panel/ with
 * the signed fields in the query, which the panel exchanges for a session.
 */
function LoginWidget({ botUsername, label }: { botUsername: string; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const script = document.createElement('script');
    script.async = true;
    script.src = TELEGRAM_WIDGET_SCRIPT;
    script.dataset.telegramLogin = botUsername;
    script.dataset.size = 'large';
    script.dataset.radius = '10';
    script.dataset.authUrl = `${window.location.origin}${window.location.pathname}`;
    element.append(script);
    return () => element.replaceChildren();
  }, [botUsername]);
  return <div ref={box} className="login-widget" title={label} />;
}

export function LoginScreen({ t, error, notice }: { t: Texts; error?: string; notice?: string }) {
  const [botUsername, setBotUsername] = useState<string | null | undefined>(undefined);
  const [optionsError, setOptionsError] = useState(false);
  useEffect(() => {
    createApiClient({ kind: 'session' })
      .get<{ botUsername: string | null }>('/api/panel/login-options')
      .then((options) => setBotUsername(options.botUsername))
      .catch(() => setOptionsError(true));
  }, []);

  return (
    <main className="login" aria-labelledby="login-title">
      <div className="login-card">
        <h1 id="login-title">{t.loginTitle}</h1>
        <p>{t.loginIntro}</p>
        {error && (
          <div className="banner error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        {notice && !error && (
          <p className="banner" role="status">
            {notice}
          </p>
        )}
        {optionsError && (
          <div className="banner error" role="alert">
            {t.networkError}
          </div>
        )}
        {botUsername === undefined && !optionsError && <Spinner label={t.loading} />}
        {botUsername === null && (
          <p className="banner" data-testid="login-not-configured">
            {t.loginNotConfigured}
          </p>
        )}
        {botUsername && <LoginWidget botUsername={botUsername} label={t.loginWidgetLabel} />}
      </div>
    </main>
  );
}
