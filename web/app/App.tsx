import { useCallback, useMemo, useState } from 'react';
import { type ApiClient, ApiError } from '../shared/api.ts';
import type { Language } from '../shared/i18n.ts';
import { useBackButton } from '../shared/telegram-hooks.ts';
import { ErrorBanner, Spinner } from '../shared/ui.tsx';
import type { Me } from './api-types.ts';
import { AppContext, type AppContextValue, type Navigation, type Screen } from './context.tsx';
import { useLoad } from './hooks.ts';
import { CheckInsScreen } from './screens/CheckInsScreen.tsx';
import { HomeScreen } from './screens/HomeScreen.tsx';
import { PlanScreen } from './screens/PlanScreen.tsx';
import { PlansScreen } from './screens/PlansScreen.tsx';
import { SubscriptionScreen } from './screens/SubscriptionScreen.tsx';
import { SurveyScreen } from './screens/SurveyScreen.tsx';
import type { Texts } from './texts.ts';

function ScreenView({ screen }: { screen: Screen }) {
  switch (screen.name) {
    case 'home':
      return <HomeScreen />;
    case 'survey':
      return <SurveyScreen />;
    case 'plan':
      return <PlanScreen planId={screen.planId} />;
    case 'plans':
      return <PlansScreen />;
    case 'checkins':
      return <CheckInsScreen />;
    case 'subscription':
      return <SubscriptionScreen />;
  }
}

/** Loads the caller (GET /api/me), then shows the screen on top of the stack. */
export function App(props: { api: ApiClient; t: Texts; language: Language; insideTelegram: boolean }) {
  const { api, t } = props;
  const me = useLoad(() => api.get<Me>('/api/me'));
  const [stack, setStack] = useState<Screen[]>([{ name: 'home' }]);
  const back = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const nav: Navigation = useMemo(
    () => ({
      open: (screen) => setStack((s) => [...s, screen]),
      replace: (screen) => setStack((s) => [...s.slice(0, -1), screen]),
      back,
      canGoBack: stack.length > 1,
    }),
    [back, stack.length],
  );
  useBackButton(stack.length > 1 ? back : undefined);

  const setMe = me.setData;
  const refreshMe = useCallback(async () => {
    const fresh = await api.get<Me>('/api/me');
    setMe(fresh);
    return fresh;
  }, [api, setMe]);

  if (!me.data) {
    return (
      <main className="app">
        {me.error instanceof ApiError && me.error.status === 401 ? (
          // Expired or invalid initData: trying again would send the same initData; only
          // reopening the app from the bot gets fresh launch parameters.
          <div className="stack">
            <h1>{t.appTitle}</h1>
            <div className="banner error" role="alert">
              {t.reopenFromBot}
            </div>
          </div>
        ) : me.error ? (
          <div className="stack">
            <h1>{t.appTitle}</h1>
            <ErrorBanner error={me.error} fallback={t.networkError} />
            <button type="button" onClick={() => void me.reload()}>
              {t.retry}
            </button>
          </div>
        ) : (
          <Spinner label={t.loading} />
        )}
      </main>
    );
  }

  const value: AppContextValue = { ...props, me: me.data, refreshMe, nav };
  const screen = stack.at(-1)!;
  return (
    <AppContext.Provider value={value}>
      <main className="app">
        {!props.insideTelegram && nav.canGoBack && (
          <button type="button" className="secondary back" onClick={back}>
            ‹ {t.back}
          </button>
        )}
        <ScreenView key={`${stack.length}-${screen.name}`} screen={screen} />
      </main>
    </AppContext.Provider>
  );
}
