import { EXAMPLE_ANSWERS } from '../../src/domain/survey-answers.ts';
import { signInitData } from '../../src/telegram/init-data.ts';

export const TEST_BOT_TOKEN = '1000000001:AAFakeSandboxTokenForLocalDevelopment';

export interface TestUser {
  id: number | string;
  first_name?: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** Telegram-shaped initData for a user, signed with the test bot token (or another one). */
export function initDataFor(
  user: TestUser,
  options: { authDate?: number; token?: string; extra?: Record<string, string> } = {},
) {
  const authDate = options.authDate ?? Math.floor(Date.now() / 1000);
  // Telegram serialises the id as a bare JSON number, even past 2^53; keep its digits verbatim.
  const userJson = JSON.stringify({ first_name: 'Test', ...user, id: 0 }).replace(
    '"id":0',
    `"id":${user.id}`,
  );
  return signInitData(
    { auth_date: String(authDate), query_id: 'AAH-test', user: userJson, ...options.extra },
    options.token ?? TEST_BOT_TOKEN,
  );
}

export function authHeader(user: TestUser, options?: Parameters<typeof initDataFor>[1]): string {
  return `tma ${initDataFor(user, options)}`;
}

/** A complete, valid survey (the API's documented example). */
export const validAnswers = EXAMPLE_ANSWERS;
