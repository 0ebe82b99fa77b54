import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/base.css';
import './app.css';
import { createApiClient } from '../shared/api.ts';
import { pickLanguage } from '../shared/i18n.ts';
import { followTheme, startTelegram } from '../shared/telegram.ts';
import { applyTheme } from '../shared/theme.ts';
import { OutsideTelegram } from '../shared/ui.tsx';
import { App } from './App.tsx';
import { textsFor } from './texts-ru.ts';

const launch = startTelegram();
followTheme(() => applyTheme());
// Inside Telegram the user's Telegram language; outside it, the browser's.
const language = pickLanguage(launch?.user.languageCode);
const t = textsFor(language);
document.documentElement.lang = language;
document.title = t.appTitle;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {launch ? (
      <App
        api={createApiClient({ kind: 'tma', initData: launch.initData })}
        t={t}
        language={language}
        insideTelegram={launch.insideTelegram}
      />
    ) : (
      <OutsideTelegram title={t.outsideTitle} text={t.outsideText} />
    )}
  </StrictMode>,
);
