import { pageTenant } from './tenant.ts';

/** How the page proves who is calling: Telegram's initData, or the panel's browser session cookie. */
export type ApiAuth = { kind: 'tma'; initData: string } | { kind: 'session' };

/** An answer the API gave (status ≥ 400 with its JSON error), or `network` when it gave none. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: { path?: string; message: string }[];
  constructor(
    status: number,
    code: string,
    message: string,
    details: { path?: string; message: string }[] = [],
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * Whether asking again may get another answer: no connection, a timeout, too many requests (408,
 * 429) or a server error may pass; any other 4xx will not (401: credentials over; 403/404: the role
 * or the thing is gone). Pollers stop on the latter and back off on the former.
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  const { status } = error;
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

const REQUEST_TIMEOUT_MS = 15_000;

/** `tenant`: the coach the calls are for (X-Tenant); by default the one in the page's URL, if any. */
export function createApiClient(auth: ApiAuth, tenant: string | undefined = pageTenant()): ApiClient {
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    // Un-prefixed pages send nothing: the default tenant, as before there were several coaches.
    if (tenant) headers['X-Tenant'] = tenant;
    if (auth.kind === 'tma') headers.Authorization = `tma ${auth.initData}`;
    // The session cookie is SameSite=Strict; this header is what a cross-site form cannot send.
    else headers['X-Requested-With'] = 'coach-panel';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch {
      throw new ApiError(0, 'network', 'No connection to the server.');
    }
    if (response.status === 204) return undefined as T;
    const payload = (await response.json().catch(() => undefined)) as
      | { error?: { code?: string; message?: string; details?: { path?: string; message: string }[] } }
      | undefined;
    if (!response.ok) {
      const error = payload?.error;
      throw new ApiError(
        response.status,
        error?.code ?? 'http_error',
        error?.message ?? `The server answered ${response.status}.`,
        error?.details ?? [],
      );
    }
    return payload as T;
  }
  return {
    get: (path) => request('GET', path),
    send: (method, path, body) => request(method, path, body),
  };
}
