import { type ApiClient, ApiError } from '../shared/api.ts';

/**
 * The Login Widget's redirect lands on /panel/?id=…&first_name=…&auth_date=…&hash=…; every query
 * value is signed, so all of them go to the server as received (strings).
 */
export function loginFieldsFromUrl(search = window.location.search): Record<string, string> | undefined {
  const params = new URLSearchParams(search);
  if (!params.has('hash') || !params.has('id')) return undefined;
  return Object.fromEntries(params.entries());
}

/** The signed fields must not stay in the address bar, the history or a bookmark. */
export function clearLoginFieldsFromUrl(): void {
  window.history.replaceState(window.history.state, '', window.location.pathname + window.location.hash);
}

/**
 * The session cookie is HttpOnly, so the page cannot see it. This marker (no secret in it: only
 * when the session ends) says whether asking GET /api/panel/session is worth it, so a first visit
 * goes straight to the login screen without a 401 in the console.
 */
const MARKER = 'coach-panel-session-until';

export function rememberSession(expiresAt: string | undefined): void {
  try {
    localStorage.setItem(MARKER, expiresAt ?? new Date(Date.now() + 3_600_000).toISOString());
  } catch {
    // Storage may be disabled; the panel then asks the server on every load.
  }
}

export function forgetSession(): void {
  try {
    localStorage.removeItem(MARKER);
  } catch {}
}

export function maybeHasSession(): boolean {
  try {
    const until = localStorage.getItem(MARKER);
    if (until === null) return false;
    return Date.parse(until) > Date.now();
  } catch {
    return true;
  }
}

/**
 * Every API call of the panel goes through this: a 401 anywhere means the session is over; a 403
 * for the caller's role (`permission_denied`, `not_an_admin`) means the role changed since the page
 * asked who they are, so the page asks again and offers only what is still allowed.
 */
export function withAuthHandlers(
  api: ApiClient,
  handlers: { onUnauthorized: () => void; onForbidden: () => void },
): ApiClient {
  const watch = async <T>(call: Promise<T>): Promise<T> => {
    try {
      return await call;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) handlers.onUnauthorized();
      if (
        error instanceof ApiError &&
        error.status === 403 &&
        (error.code === 'permission_denied' || error.code === 'not_an_admin')
      )
        handlers.onForbidden();
      throw error;
    }
  };
  return {
    get: (path) => watch(api.get(path)),
    send: (method, path, body) => watch(api.send(method, path, body)),
  };
}
