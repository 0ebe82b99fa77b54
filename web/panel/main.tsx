import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/base.css';
import { followTheme, startTelegram } from '../shared/telegram.ts';
import { applyTheme } from '../shared/theme.ts';

const launch = startTelegram();
followTheme(() => applyTheme());
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <main>
      <h1>Trainer panel</h1>
      <p>{launch ? `Opened in Telegram by ${launch.user.firstName}` : 'Log in with Telegram'}</p>
    </main>
  </StrictMode>,
);
