/**
 * Errors named by cause, so callers decide with `instanceof` instead of parsing Telegram's
 * descriptions. None of them carries the original error as `cause`: telegraf's errors hold the
 * request payload (the message text) and node-fetch's messages can hold the request URL, which
 * contains the bot token — neither belongs in logs.
 */

/** Flood control (429): nothing was sent; retry no sooner than retryAfterMs. */
export class TelegramRateLimitedError extends Error {
  override name = 'TelegramRateLimitedError';
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = 'Telegram rate limit reached') {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * 403: Telegram refuses to deliver to this chat — the user blocked the bot, deleted their
 * account, never pressed Start, or the bot was removed from the chat. Permanent until the user
 * comes back, so retrying only burns rate limit.
 */
export class TelegramUserBlockedError extends Error {
  override name = 'TelegramUserBlockedError';
}

/** 400 "chat not found": the id is unknown to Telegram (typo, or the user never talked to the bot). */
export class TelegramChatNotFoundError extends Error {
  override name = 'TelegramChatNotFoundError';
}

/** Any other 4xx: the request itself is wrong (too long, bad markup, bad button URL); retrying cannot fix it. */
export class TelegramBadRequestError extends Error {
  override name = 'TelegramBadRequestError';
}

/**
 * 401/404 on the bot URL: the token is wrong or revoked. A subclass of TelegramBadRequestError so
 * generic "permanent" handling still catches it, but separate because it breaks every message,
 * not just this one — worth alerting on rather than dropping a single job.
 */
export class TelegramUnauthorizedError extends TelegramBadRequestError {
  override name = 'TelegramUnauthorizedError';
}

/** 5xx from the Bot API (or a proxy in front of it): transient, retry later. */
export class TelegramServerError extends Error {
  override name = 'TelegramServerError';
}

/**
 * The request or its answer got lost. `mayHaveBeenDelivered` is false only when the request
 * certainly never reached Telegram (refused connection, DNS failure, TLS rejected); after a
 * timeout or a reset mid-request Telegram may already have delivered the message, so a blind
 * retry can duplicate it.
 */
export class TelegramNetworkError extends Error {
  override name = 'TelegramNetworkError';
  /** Telegram is unreachable: not a PostgreSQL or Redis outage (src/db/dependency-errors.ts). */
  readonly outsideService: string | undefined = 'telegram';
  readonly mayHaveBeenDelivered: boolean;
  readonly code?: string;
  constructor(mayHaveBeenDelivered: boolean, message: string, code?: string) {
    super(message);
    this.mayHaveBeenDelivered = mayHaveBeenDelivered;
    this.code = code;
  }
}

/**
 * A later part of a split message failed after earlier parts were delivered. Retrying would send
 * those parts again, so callers treat it like a delivery that may have happened: never resend.
 */
export class TelegramPartialDeliveryError extends TelegramNetworkError {
  override name = 'TelegramPartialDeliveryError';
  readonly deliveredParts: number;
  readonly cause: Error;
  constructor(deliveredParts: number, cause: Error) {
    super(true, `only ${deliveredParts} part(s) of a split message were delivered: ${cause.message}`);
    this.deliveredParts = deliveredParts;
    this.cause = cause;
  }
}

/** Failures that happen before a single byte of the request is written. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const CHAT_NOT_FOUND = /chat not found|user not found|PEER_ID_INVALID/i;

interface ApiErrorShape {
  error_code: number;
  description?: string;
  parameters?: { retry_after?: number };
}

/** telegraf's TelegramError, recognised by shape so a second telegraf copy in node_modules still matches. */
function apiErrorOf(err: unknown): ApiErrorShape | undefined {
  if (typeof err !== 'object' || err === null || !('response' in err)) return undefined;
  const response = (err as { response: unknown }).response;
  if (typeof response !== 'object' || response === null) return undefined;
  return typeof (response as ApiErrorShape).error_code === 'number' ? (response as ApiErrorShape) : undefined;
}

/** node-fetch puts the request URL (with the token) in some messages; telegraf redacts only some of them. */
function redactBotToken(text: string): string {
  return text.replace(/\/(bot|user)[^/\s]+\//g, '/$1[REDACTED]/');
}

function classifyApiError(api: ApiErrorShape): Error {
  const code = api.error_code;
  const description = api.description ?? `error ${code}`;
  const message = `Telegram ${code}: ${description}`;
  if (code === 429) {
    const retryAfter = api.parameters?.retry_after;
    // Telegram always sends retry_after with 429; 1 s is a safe floor if a proxy stripped it.
    const seconds = typeof retryAfter === 'number' && retryAfter > 0 ? retryAfter : 1;
    return new TelegramRateLimitedError(seconds * 1000, message);
  }
  if (code === 401 || code === 404) return new TelegramUnauthorizedError(message);
  if (code === 403) return new TelegramUserBlockedError(message);
  if (code === 400 && CHAT_NOT_FOUND.test(description)) return new TelegramChatNotFoundError(message);
  if (code >= 400 && code < 500) return new TelegramBadRequestError(message);
  return new TelegramServerError(message);
}

const OUR_ERRORS = [
  TelegramRateLimitedError,
  TelegramUserBlockedError,
  TelegramChatNotFoundError,
  TelegramBadRequestError,
  TelegramServerError,
  TelegramNetworkError,
];

/**
 * Turns whatever telegraf / node-fetch threw into one of the classes above. Errors that are
 * neither (a TypeError from a bug, say) come back unchanged: disguising a bug as a Telegram
 * failure would make the queue retry it forever.
 */
export function classifyTelegramError(err: unknown): Error {
  if (OUR_ERRORS.some((cls) => err instanceof cls)) return err as Error;
  const api = apiErrorOf(err);
  if (api) return classifyApiError(api);
  if (!(err instanceof Error)) return new Error(`Non-error thrown by Telegram client: ${String(err)}`);

  const { type, code } = err as Error & { type?: string; code?: string };
  const reason = redactBotToken(err.message);
  if (err.name === 'AbortError') {
    return new TelegramNetworkError(true, `Telegram request aborted: ${reason}`, 'ABORTED');
  }
  if (type === 'invalid-json') {
    // Something answered, but not with the Bot API's JSON — the message may well have gone out.
    return new TelegramNetworkError(true, `Unreadable answer from Telegram: ${reason}`, 'INVALID_JSON');
  }
  if (type === 'request-timeout' || type === 'body-timeout') {
    return new TelegramNetworkError(true, `Telegram request timed out: ${reason}`, 'ETIMEDOUT');
  }
  if (type === 'system' || typeof code === 'string') {
    const mayHaveBeenDelivered = !(code && NOT_SENT_CODES.has(code));
    return new TelegramNetworkError(mayHaveBeenDelivered, `Telegram request failed: ${reason}`, code);
  }
  return err;
}
