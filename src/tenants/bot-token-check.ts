import { withTimeout } from '../util/with-timeout.ts';
import { botIdOf, TenantInputError } from './tenant-admin.ts';

export interface CheckedBot {
  botId: string;
  username: string | undefined;
}

/**
 * Asks Telegram who the bot is (getMe) before a token is stored, so a typo or a revoked token is
 * caught by the operator, not by the first client. Telegram answering 401/404 means the token is
 * wrong (TenantInputError); no answer means Telegram is unreachable (a plain Error). Messages never
 * contain the token: it is part of the request URL, which is why the URL is never quoted.
 */
export async function checkBotToken(
  apiRoot: string,
  botToken: string,
  timeoutMs = 10_000,
): Promise<CheckedBot> {
  const botId = botIdOf(botToken);
  const root = apiRoot.replace(/\/+$/, '');
  let response: Response;
  try {
    response = await withTimeout(timeoutMs, (signal) =>
      fetch(`${root}/bot${botToken}/getMe`, { method: 'POST', signal }),
    );
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(
      `Cannot reach the Telegram Bot API at ${new URL(root).host} to check the token: ${reason}`,
    );
  }
  if (response.status === 401 || response.status === 404) {
    throw new TenantInputError(
      'invalid_bot_token',
      'Telegram refused this bot token (getMe: 401 Unauthorized).',
    );
  }
  const body = (await response.json().catch(() => undefined)) as
    | { ok?: boolean; result?: { id?: number; username?: string }; description?: string }
    | undefined;
  if (!response.ok || !body?.ok || !body.result) {
    throw new Error(`The Telegram Bot API could not check the token: HTTP ${response.status}`);
  }
  if (String(body.result.id) !== botId) {
    throw new TenantInputError(
      'invalid_bot_token',
      'Telegram answered for a different bot than this token names.',
    );
  }
  return { botId, username: body.result.username };
}
