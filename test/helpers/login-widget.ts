import { type LoginWidgetFields, signLoginWidget } from '../../src/security/login-widget.ts';
import { TEST_BOT_TOKEN } from './init-data.ts';

export { signLoginWidget };

/**
 * Telegram Login Widget data for a user, signed with the test bot token (or another one), as the
 * widget's callback gives it: id and auth_date as numbers.
 */
export function loginWidgetFor(
  id: number | string,
  options: { authDate?: number; token?: string; fields?: LoginWidgetFields } = {},
) {
  return signLoginWidget(options.token ?? TEST_BOT_TOKEN, {
    id,
    first_name: 'Panel',
    username: `admin_${id}`,
    auth_date: options.authDate ?? Math.floor(Date.now() / 1000),
    ...options.fields,
  });
}
