import type { Telegram } from 'telegraf';
import { withTimeout } from '../util/with-timeout.ts';
import { classifyTelegramError, TelegramNetworkError } from './telegram-errors.ts';

/**
 * telegraf resolves `./bot<token>/<method>` against apiRoot, which drops a path prefix (e.g. a
 * proxy at https://host/telegram) unless the root ends with a slash.
 */
export function telegrafApiRoot(apiRoot: string): string {
  return apiRoot.endsWith('/') ? apiRoot : `${apiRoot}/`;
}

/**
 * telegraf's typings name the abort-controller polyfill; at runtime it hands the signal to
 * node-fetch, which accepts Node's native AbortSignal.
 */
export type TelegrafSignal = NonNullable<Parameters<Telegram['callApi']>[2]>['signal'];

/**
 * One Bot API call, bounded (telegraf has no timeout) and with its errors classified by cause.
 * telegraf forwards the signal to node-fetch, which aborts the socket — that is what keeps a hung
 * Bot API from holding connections. The race is the guarantee: the returned promise settles at
 * the deadline even if some step before or after fetch ignores the signal. Either way the
 * request may already have reached Telegram, hence mayHaveBeenDelivered: true.
 */
export async function boundedBotApiCall<T>(
  timeoutMs: number,
  call: (signal: TelegrafSignal) => Promise<T>,
): Promise<T> {
  try {
    return await withTimeout(
      timeoutMs,
      (signal) => call(signal as unknown as TelegrafSignal),
      () => new TelegramNetworkError(true, `Telegram did not answer within ${timeoutMs} ms`, 'ETIMEDOUT'),
    );
  } catch (err) {
    throw classifyTelegramError(err);
  }
}
