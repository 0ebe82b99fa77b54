import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/base.css';
import { followTheme, startTelegram } from '../shared/telegram.ts';
import { applyTheme } from '../shared/theme.ts';
import { OutsideTelegram } from '../shared/ui.tsx';

const launch = startTelegram();
followTheme(() => applyTheme());
const root = createRoot(document.getElementById('root')!);
root.render(
  <StrictMode>
    {launch ? (
      <main>
        <h1>Hello, {launch.user.firstName}</h1>
      </main>
    ) : (
      <OutsideTelegram
        title="Open this in Telegram"
        text="This page is the coach's Mini App: open it from the bot in Telegram."
      />
    )}
  </StrictMode>,
);
