/**
 * Errors from an outside service (Telegram, the AI provider) carry `outsideService`: their socket
 * codes say that service is unreachable, which is not our platform being down.
 */
export interface OutsideServiceError {
  readonly outsideService: string | undefined;
}

/** Redis answering but refusing writes: out of memory, a replica after failover, still loading. */
const REDIS_REFUSALS = /^(OOM|READONLY|LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/;

/** Connection-level failures of PostgreSQL or Redis: the service is degraded, not the request bad. */
export function isDependencyDown(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const { code, name, message } = current as { code?: string; name?: string; message?: string };
    if ((current as Partial<OutsideServiceError>).outsideService) return false;
    if (name === 'ReplyError' && message && REDIS_REFUSALS.test(message)) return true;
    if (
      code &&
      [
        'ECONNREFUSED',
        'ECONNRESET',
        'ETIMEDOUT',
        'EHOSTUNREACH',
        'ENOTFOUND',
        '57P01',
        '57P03',
        '57014',
      ].includes(code)
    )
      return true;
    if (name === 'ConnectionException' || name === 'MaxRetriesPerRequestError') return true;
    if (
      message &&
      /Connection terminated|connect ECONNREFUSED|Stream isn't writeable|timeout exceeded when trying to connect|Query read timeout|Cluster isn't ready|Failed to refresh slots cache|Too many Cluster redirections|Connection is closed/i.test(
        message,
      )
    )
      return true;
    // An ioredis Cluster wraps a node's error as lastNodeError (slot refresh) or in the message
    // ("Too many Cluster redirections. Last error: CLUSTERDOWN …", matched above).
    const wrapped = current as { cause?: unknown; lastNodeError?: unknown };
    current = wrapped.cause ?? wrapped.lastNodeError;
  }
  return false;
}

/**
 * PostgreSQL gave up on a transaction because of concurrent ones (deadlock 40P01, serialization
 * 40001): nothing is wrong with the request or the data, and running it again succeeds.
 */
export function isTransientConflict(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: string }).code;
    if (code === '40P01' || code === '40001') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
