import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/** Why initData was refused; the reason is a metric label and a log field, never shown with the data. */
export type InitDataFailure =
  | 'missing'
  | 'malformed'
  | 'no_hash'
  | 'bad_hash'
  | 'no_auth_date'
  | 'expired'
  | 'future'
  | 'no_user'
  | 'bad_user';

export class InitDataError extends Error {
  override name = 'InitDataError';
  readonly reason: InitDataFailure;
  constructor(reason: InitDataFailure) {
    super(`initData rejected: ${reason}`);
    this.reason = reason;
  }
}

export interface InitDataUser {
  /** 64-bit Telegram id kept as a decimal string: JSON numbers lose precision past 2^53. */
  id: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
  isPremium: boolean;
  photoUrl: string | null;
}

export interface ValidatedInitData {
  user: InitDataUser;
  authDate: Date;
  queryId: string | null;
  startParam: string | null;
}

export interface ValidateOptions {
  botToken: string;
  maxAgeSeconds: number;
  now?: Date;
  /** Clock skew tolerated for auth_date in the future. */
  futureSkewSeconds?: number;
}

const MAX_INIT_DATA_LENGTH = 8192;

/**
 * secret_key = HMAC_SHA256(bot_token, key "WebAppData"), derived once per token. It is kept as a
 * KeyObject, not a Buffer: createHmac imports a Buffer key into a new KeyObject on every call,
 * which profiles showed as a visible share of each authenticated request. Tokens are few (one per
 * coach's bot), so the map stays small.
 */
const secretKeys = new Map<string, KeyObject>();
function secretKeyFor(botToken: string): KeyObject {
  let key = secretKeys.get(botToken);
  if (!key) {
    key = createSecretKey(createHmac('sha256', 'WebAppData').update(botToken).digest());
    secretKeys.set(botToken, key);
  }
  return key;
}

/**
 * Splits the raw query string ourselves so that values are decoded exactly once and nothing is
 * re-serialised: URLSearchParams would also do, but it turns `+` into a space, which is right for
 * form encoding and is what Telegram uses, so we rely on it only for decoding individual pairs.
 */
function parsePairs(raw: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new InitDataError('malformed');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(part.slice(0, eq).replace(/\+/g, ' '));
      value = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      throw new InitDataError('malformed');
    }
    if (pairs.has(key)) throw new InitDataError('malformed');
    pairs.set(key, value);
  }
  return pairs;
}

/** Builds the data-check-string: every field but `hash` (signature stays in), sorted, `key=value` by `\n`. */
export function dataCheckString(pairs: Map<string, string>): string {
  return [...pairs.entries()]
    .filter(([key]) => key !== 'hash')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
}

export function signDataCheckString(botToken: string, checkString: string): string {
  return createHmac('sha256', secretKeyFor(botToken)).update(checkString).digest('hex');
}

/** Telegram ids are stored in a signed bigint column: anything larger could only be forged or a bug. */
const MAX_TELEGRAM_ID = 2n ** 63n - 1n;
/** The exact text of a plain positive integer: no sign, fraction, exponent or leading zero. */
const PLAIN_ID = /^[1-9][0-9]{0,18}$/;

/** True for the exact text of a Telegram id we accept: a plain positive integer up to 2^63−1. */
export function isTelegramIdText(source: string): boolean {
  return PLAIN_ID.test(source) && BigInt(source) <= MAX_TELEGRAM_ID;
}

/**
 * Lone surrogates (e.g. left by a client that cut an emoji in half) are refused by PostgreSQL jsonb, and
 * NUL by every text column, so they must not get past the boundary where the profile enters.
 */
export function cleanText(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const clean = value.slice(0, max).toWellFormed().replaceAll('\u0000', '');
  return clean.length > 0 ? clean : null;
}

function parseUser(json: string): InitDataUser {
  // JSON.parse rounds ids above 2^53, so the id digits come from the source text the parser saw for
  // the top-level `id` itself; a regex over the raw JSON would also match an `id` nested deeper.
  const idSources = new WeakMap<object, string>();
  let user: unknown;
  try {
    user = JSON.parse(
      json,
      function (this: object, key: string, value: unknown, context?: { source?: string }) {
        if (key === 'id' && context?.source !== undefined) idSources.set(this, context.source);
        return value;
      },
    );
  } catch {
    throw new InitDataError('no_user');
  }
  if (typeof user !== 'object' || user === null || Array.isArray(user)) throw new InitDataError('bad_user');
  const record = user as Record<string, unknown>;
  if (!Object.hasOwn(record, 'id')) throw new InitDataError('no_user');
  // The parser gives a source only for primitives, so an object or array id is refused here too.
  const idSource = idSources.get(record);
  if (idSource === undefined || !isTelegramIdText(idSource)) {
    throw new InitDataError('bad_user');
  }
  return {
    id: idSource,
    firstName: cleanText(record.first_name, 256) ?? '',
    lastName: cleanText(record.last_name, 256),
    username: cleanText(record.username, 64),
    languageCode: cleanText(record.language_code, 16),
    isPremium: record.is_premium === true,
    photoUrl: cleanText(record.photo_url, 1024),
  };
}

/** Why signed Telegram fields were refused by checkSignedFields. */
export type SignedFieldsFailure = 'bad_hash' | 'no_auth_date' | 'future' | 'expired';

/**
 * The check Telegram specifies for both of its signed payloads, Mini App initData and Login Widget
 * data (which differ only in the key `sign` uses): the hash, 64 hex digits, equals the signature
 * of the data-check-string, compared in constant time; only then is `auth_date` believed, and it
 * must be neither in the future (beyond a small skew) nor older than `maxAgeSeconds`.
 */
export function checkSignedFields(
  fields: Map<string, string>,
  hash: string,
  sign: (checkString: string) => string,
  options: { maxAgeSeconds: number; now?: Date; futureSkewSeconds?: number },
): { ok: true; authSeconds: number } | { ok: false; reason: SignedFieldsFailure } {
  if (!/^[0-9a-f]{64}$/.test(hash)) return { ok: false, reason: 'bad_hash' };
  const expected = Buffer.from(sign(dataCheckString(fields)), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(hash, 'hex'))) return { ok: false, reason: 'bad_hash' };

  const authDateText = fields.get('auth_date');
  if (!authDateText || !/^\d{1,12}$/.test(authDateText)) return { ok: false, reason: 'no_auth_date' };
  const authSeconds = Number(authDateText);
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (authSeconds > nowSeconds + (options.futureSkewSeconds ?? 60)) return { ok: false, reason: 'future' };
  if (nowSeconds - authSeconds > options.maxAgeSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, authSeconds };
}

/**
 * Validates raw Mini App initData exactly as Telegram specifies. Throws InitDataError for every
 * failure; never throws anything else, so callers can answer 401 without guessing.
 */
export function validateInitData(
  raw: string | undefined | null,
  options: ValidateOptions,
): ValidatedInitData {
  if (!raw || raw.trim() === '') throw new InitDataError('missing');
  if (raw.length > MAX_INIT_DATA_LENGTH) throw new InitDataError('malformed');
  const pairs = parsePairs(raw);
  const hash = pairs.get('hash');
  if (!hash) throw new InitDataError('no_hash');
  const checked = checkSignedFields(
    pairs,
    hash,
    (text) => signDataCheckString(options.botToken, text),
    options,
  );
  if (!checked.ok) throw new InitDataError(checked.reason);
  const { authSeconds } = checked;

  const userJson = pairs.get('user');
  if (!userJson) throw new InitDataError('no_user');
  return {
    user: parseUser(userJson),
    authDate: new Date(authSeconds * 1000),
    queryId: pairs.get('query_id') ?? null,
    startParam: pairs.get('start_param') ?? null,
  };
}

/**
 * Produces initData the way Telegram does (used by tests and the local-trial helper).
 * Values are form-encoded like Telegram's own (spaces as %20, everything else percent-encoded).
 */
export function signInitData(fields: Record<string, string>, botToken: string): string {
  const pairs = new Map(Object.entries(fields));
  const hash = signDataCheckString(botToken, dataCheckString(pairs));
  return [...pairs.entries(), ['hash', hash] as const]
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}
