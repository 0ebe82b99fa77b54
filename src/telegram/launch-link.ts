import { signInitData } from './init-data.ts';

export interface LaunchUser {
  id: number;
  first_name: string;
  language_code?: string;
}

/**
 * A page URL as Telegram opens it, with launch parameters in the hash and initData signed with the
 * bot token: for trying the Mini App and the panel in a plain browser against a local sandbox bot.
 * Telegram also sends an Ed25519 `signature` beside `hash`; the Mini App SDK insists on the field,
 * our server checks only `hash` (over every field), so a placeholder stands in for it here.
 */
export function signedLaunchUrl(
  pageUrl: string,
  botToken: string,
  user: LaunchUser,
  now = Date.now(),
): string {
  const initData = signInitData(
    {
      auth_date: String(Math.floor(now / 1000)),
      query_id: 'local-launch-link',
      user: JSON.stringify(user),
      signature: Buffer.alloc(64).toString('base64url'),
    },
    botToken,
  );
  const params = new URLSearchParams({
    tgWebAppData: initData,
    tgWebAppVersion: '8.0',
    tgWebAppPlatform: 'web',
    tgWebAppThemeParams: JSON.stringify({
      bg_color: '#ffffff',
      text_color: '#000000',
      hint_color: '#707579',
      link_color: '#2481cc',
      button_color: '#2481cc',
      button_text_color: '#ffffff',
      secondary_bg_color: '#f1f1f4',
    }),
  });
  return `${pageUrl}#${params.toString()}`;
}
