import { isRetryable } from '../shared/api.ts';

export const MAX_RETRY_MS = 30_000;

/**
 * When a poll that failed should try again, or undefined to stop (isRetryable: a 4xx stops, and the
 * caller shows it; 401 goes back to the login). Retries back off exponentially from `base`, up to
 * 30 s, so a struggling server is not hammered by every open tab.
 */
export function retryDelay(error: unknown, attempt: number, base: number): number | undefined {
  if (!isRetryable(error)) return undefined;
  return Math.min(MAX_RETRY_MS, base * 2 ** attempt);
}
