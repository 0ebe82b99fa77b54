/** Connection-level failures of PostgreSQL or Redis: the service is degraded, not the request bad. */
export function isDependencyDown(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const { code, name, message } = current as { code?: string; name?: string; message?: string };
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
      /Connection terminated|connect ECONNREFUSED|Stream isn't writeable|timeout exceeded when trying to connect|Query read timeout/i.test(
        message,
      )
    )
      return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
