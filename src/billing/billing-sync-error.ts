import {
  TelegramNetworkError,
  TelegramRateLimitedError,
  TelegramServerError,
} from '../telegram/telegram-errors.ts';
import { TimeoutError } from '../util/with-timeout.ts';

/** The reasons billing_sync_failures_total counts; 'error' is anything that is not the provider's fault. */
export type BillingSyncFailureReason = 'timeout' | 'provider_down' | 'bad_reply' | 'error';

/**
 * A billing provider (Telegram or the external billing service) failed the run. It carries
 * `outsideService`, so the job runner does not mistake a refused connection to the provider for
 * our own PostgreSQL or Redis being down (src/db/dependency-errors.ts): the job spends an attempt
 * and retries with the queue's backoff, as for any upstream failure.
 */
export class BillingSyncError extends Error {
  override name = 'BillingSyncError';
  readonly reason: Exclude<BillingSyncFailureReason, 'error'> | 'refused';
  readonly outsideService: 'billing' | 'telegram';
  /** The provider asked us to wait (429 / Retry-After). */
  readonly retryAfterMs?: number;
  constructor(
    reason: Exclude<BillingSyncFailureReason, 'error'> | 'refused',
    message: string,
    outsideService: 'billing' | 'telegram',
    retryAfterMs?: number,
  ) {
    super(message);
    this.reason = reason;
    this.outsideService = outsideService;
    this.retryAfterMs = retryAfterMs;
  }
}

/** The metric label of a failed run. A provider refusing our credentials is 'error': retrying cannot fix it. */
export function failureReason(error: unknown): BillingSyncFailureReason {
  if (error instanceof BillingSyncError) return error.reason === 'refused' ? 'error' : error.reason;
  if (error instanceof TimeoutError) return 'timeout';
  return 'error';
}

/** Telegram's errors from getStarTransactions, named by what they mean for the sync. */
export function fromTelegramError(error: unknown): unknown {
  if (error instanceof TelegramRateLimitedError) {
    return new BillingSyncError('provider_down', error.message, 'telegram', error.retryAfterMs);
  }
  if (error instanceof TelegramServerError)
    return new BillingSyncError('provider_down', error.message, 'telegram');
  if (error instanceof TelegramNetworkError) {
    const reason =
      error.code === 'ETIMEDOUT' ? 'timeout' : error.code === 'INVALID_JSON' ? 'bad_reply' : 'provider_down';
    return new BillingSyncError(reason, error.message, 'telegram');
  }
  // 401/404 (a revoked token) and other 4xx: the request is ours to fix.
  if (error instanceof Error && error.name.startsWith('Telegram')) {
    return new BillingSyncError('refused', error.message, 'telegram');
  }
  return error;
}
