import { ErrorBanner } from '../shared/ui.tsx';
import type { PollState } from './hooks.ts';
import type { Texts } from './texts.ts';

/**
 * What a screen says when its polling stopped or is taking long: 401 means Telegram's initData
 * expired (only reopening the app from the bot gets fresh initData), other 4xx show the API's
 * message, and a plan still not ready after a while gets a calm note instead of an endless spinner.
 */
export function PollNotice({ poll, t }: { poll: PollState; t: Texts }) {
  if (poll.stoppedBy?.status === 401) {
    return (
      <div className="banner error" role="alert">
        {t.reopenFromBot}
      </div>
    );
  }
  if (poll.stoppedBy) return <ErrorBanner error={poll.stoppedBy} fallback={t.networkError} />;
  if (poll.overdue) {
    return (
      <p className="hint" role="status">
        {t.takingLonger}
      </p>
    );
  }
  return null;
}
