import { loginWidgetFor } from './login-widget.ts';
import type { TestSystem } from './test-system.ts';

export interface Login {
  status: number;
  body: { error?: { code: string }; expiresAt?: string; permissions?: string[]; [key: string]: unknown };
  setCookie: string[];
  /** `coach_panel_session=<token>`, ready for a Cookie header. */
  cookie: string | undefined;
  token: string | undefined;
}

/**
 * Panel browser logins against a test system. Each login comes from its own address
 * (X-Forwarded-For; start the system with TRUST_PROXY=1), so the per-address limit is each test's own.
 */
export function panelLogin(system: () => TestSystem) {
  let lastAddress = 0;
  const newAddress = () => `203.0.113.${++lastAddress}`;

  async function login(
    fields: unknown,
    options: { ip?: string; headers?: Record<string, string> } = {},
  ): Promise<Login> {
    const response = await system().request('/api/panel/session', {
      method: 'POST',
      headers: {
        'x-forwarded-for': options.ip ?? newAddress(),
        'user-agent': 'ava-browser/1.0',
        ...options.headers,
      },
      body: JSON.stringify(fields),
    });
    const setCookie = response.headers.getSetCookie();
    const token = /^coach_panel_session=([^;]*)/.exec(setCookie[0] ?? '')?.[1];
    return {
      status: response.status,
      body: await response.json(),
      setCookie,
      cookie: token ? `coach_panel_session=${token}` : undefined,
      token,
    };
  }

  async function loggedIn(id: number): Promise<string> {
    const result = await login(loginWidgetFor(id));
    if (result.status !== 200 || !result.cookie) throw new Error(`login answered ${result.status}`);
    return result.cookie;
  }

  return { login, loggedIn, newAddress };
}

export function withCookie(cookie: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  return { ...init, headers: { cookie, ...init.headers } };
}
