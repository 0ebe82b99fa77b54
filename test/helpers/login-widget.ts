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
    auth_date: options.authDate ?? freshAuthDate(),
    ...options.fields,
  });
}

let logins = 0;
/**
 * A recent auth_date, a second older on each call: each signed login is accepted once, and two
 * logins of one user signed in the same second would otherwise be the very same data.
 */
function freshAuthDate(): number {
  return Math.floor(Date.now() / 1000) - (logins++ % 600);
}
