import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/base.css';
import './panel.css';
import './panel-screens.css';
import './panel-charts.css';
import { followTheme, startTelegram } from '../shared/telegram.ts';
import { applyTheme } from '../shared/theme.ts';
import { PanelApp } from './app.tsx';

// Inside Telegram: launch parameters → initData auth, Telegram's theme and back button.
// In a desktop browser: undefined → the Login Widget and a session cookie.
const launch = startTelegram();
followTheme(() => {
  applyTheme();
});
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PanelApp launch={launch} />
  </StrictMode>,
);
