import type { Metrics } from '../observability/metrics.ts';

/**
 * One Mini App login attempt as the telegram_auth_* metrics count it, shared by REST (tmaAuth) and
 * the panel WebSocket so the auth alerts see both the same way.
 */
export function startAuthAttempt(metrics: Metrics) {
  const stopTimer = metrics.telegramAuthSeconds.startTimer();
  return {
    failed(reason: string): void {
      metrics.telegramAuth.inc({ result: 'failure' });
      metrics.telegramAuthErrors.inc({ reason });
      stopTimer();
    },
    succeeded(): void {
      metrics.telegramAuth.inc({ result: 'success' });
      stopTimer();
    },
  };
}
