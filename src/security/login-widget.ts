import { createHash, createHmac } from 'node:crypto';
import { checkSignedFields, cleanText, dataCheckString, isTelegramIdText } from '../telegram/init-data.ts';

/**
 * The Telegram Login Widget (https://core.telegram.org/widgets/login#checking-authorization): the
 * trainer panel's way in from a desktop browser. Unlike Mini App initData, the key is SHA-256 of the
 * bot token (not an HMAC with "WebAppData"), and the fields arrive as JSON, not a query string.
 */

/** Why a login was refused; a metric label and a log field, never shown with the data. */
export type LoginWidgetFailure =
  | 'malformed'
  | 'no_hash'
  | 'bad_hash'
  | 'no_auth_date'
  | 'expired'
  | 'future'
  | 'bad_user';

export class LoginWidgetError extends Error {
  override name = 'LoginWidgetError';
  readonly reason: LoginWidgetFailure;
  constructor(reason: LoginWidgetFailure) {
    super(`Login Widget data rejected: ${reason}`);
    this.reason = reason;
  }
}

export interface LoginWidgetUser {
  /** 64-bit Telegram id as a decimal string. */
  id: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  photoUrl: string | null;
}

export interface VerifiedLogin {
  user: LoginWidgetUser;
  authDate: Date;
  /** The verified signature: what makes this login unique (accepted once, login-replay-guard.ts). */
  hash: string;
}

/** What the widget gives: id and auth_date as numbers (callback) or numeric strings (redirect). */
export type LoginWidgetFields = Record<string, string | number>;

/**
 * Telegram may add fields, and every field it sends is signed, so unknown ones are kept in the check;
 * but they are bounded: a login body is no place for a payload.
 */
export const MAX_LOGIN_FIELDS = 20;
export const MAX_LOGIN_VALUE_LENGTH = 2048;
const FIELD_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export interface VerifyLoginOptions {
  botToken: string;
  maxAgeSeconds: number;
  now?: Date;
  /** Clock skew tolerated for auth_date in the future. */
  futureSkewSeconds?: number;
}

/** The value as it appears in the data-check-string: strings verbatim, whole numbers in decimal. */
function fieldText(value: unknown): string | null {
  if (typeof value === 'string') return value.length <= MAX_LOGIN_VALUE_LENGTH ? value : null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return null;
}

/** Every received field as text; anything that is not a flat object of short strings and integers is refused. */
function receivedFields(data: unknown): Map<string, string> {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new LoginWidgetError('malformed');
  // Own keys as parsed, `__proto__` included (JSON.parse makes it an own property).
  const keys = Object.keys(data);
  if (keys.length > MAX_LOGIN_FIELDS) throw new LoginWidgetError('malformed');
  const fields = new Map<string, string>();
  for (const key of keys) {
    const text = fieldText((data as Record<string, unknown>)[key]);
    if (!FIELD_NAME.test(key) || text === null) throw new LoginWidgetError('malformed');
    fields.set(key, text);
  }
  return fields;
}

/** The widget's key is SHA-256 of the token; the check string is initData's recipe. */
function signCheckString(botToken: string, checkString: string): string {
  const key = createHash('sha256').update(botToken).digest();
  return createHmac('sha256', key).update(checkString).digest('hex');
}

/**
 * Checks Login Widget data exactly as Telegram specifies: HMAC first (nothing else is believed before
 * it matches), then freshness, then the user. Throws LoginWidgetError and nothing else.
 */
export function verifyLoginWidget(data: unknown, options: VerifyLoginOptions): VerifiedLogin {
  const fields = receivedFields(data);
  const hash = fields.get('hash');
  if (hash === undefined) throw new LoginWidgetError('no_hash');
  const checked = checkSignedFields(fields, hash, (text) => signCheckString(options.botToken, text), options);
  if (!checked.ok) throw new LoginWidgetError(checked.reason);
  const { authSeconds } = checked;

  const id = fields.get('id');
  if (id === undefined || !isTelegramIdText(id)) throw new LoginWidgetError('bad_user');
  return {
    user: {
      id,
      firstName: cleanText(fields.get('first_name'), 256) ?? '',
      lastName: cleanText(fields.get('last_name'), 256),
      username: cleanText(fields.get('username'), 64),
      photoUrl: cleanText(fields.get('photo_url'), 1024),
    },
    authDate: new Date(authSeconds * 1000),
    hash,
  };
}

/**
 * Signs fields the way Telegram's widget does, for tests and local trials without a real widget.
 * `auth_date` defaults to now; numbers stay numbers in the result (the widget's callback mode).
 */
export function signLoginWidget(
  botToken: string,
  fields: LoginWidgetFields,
): LoginWidgetFields & { auth_date: string | number; hash: string } {
  const { hash: _ignored, ...rest } = fields;
  const signed = { auth_date: Math.floor(Date.now() / 1000), ...rest };
  const texts = new Map(Object.entries(signed).map(([key, value]) => [key, String(value)]));
  return { ...signed, hash: signCheckString(botToken, dataCheckString(texts)) };
}
