import { ApiError } from '../shared/api.ts';

export const MAX_RETRY_MS = 30_000;

/**
 * When a poll that failed should try again, or undefined to stop. A 4xx will not get better by
 * asking again (401: the session is over and the page goes back to the login; 403/404: the role or
 * the resource is gone; the caller shows the error). A 5xx, a timeout, too many requests (408,
 * 429) or no connection may: back off exponentially from `base`, up to 30 s, so a struggling
 * server is not hammered by every open tab.
 */
export function retryDelay(error: unknown, attempt: number, base: number): number | undefined {
  const transient = (status: number) => status === 0 || status === 408 || status === 429 || status >= 500;
  if (error instanceof ApiError && !transient(error.status)) return undefined;
  return Math.min(MAX_RETRY_MS, base * 2 ** attempt);
}
