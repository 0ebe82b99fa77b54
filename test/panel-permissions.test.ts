import { randomUUID } from 'node:crypto';
import test from 'ava';
import { authHeader } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * Every role × every panel endpoint, from DESIGN.md ("Roles" and the HTTP table) rather than from
 * ROLE_PERMISSIONS, so a wrong permission map fails here instead of being restated.
 */
type Permission = 'view_applications' | 'manage_clients' | 'view_revenue' | 'manage_admins';
const GRANTS: Record<string, Permission[]> = {
  none: [],
  support: ['view_applications'],
  trainer: ['view_applications', 'manage_clients'],
  owner: ['view_applications', 'manage_clients', 'view_revenue', 'manage_admins'],
  'configured owner': ['view_applications', 'manage_clients', 'view_revenue', 'manage_admins'],
};
const CALLERS: Record<string, number> = {
  none: 500001,
  support: 500002,
  trainer: 500003,
  owner: 500004,
  'configured owner': 500005,
};

interface Endpoint {
  name: string;
  permission: Permission;
  /** What an allowed caller gets: harmless targets, so every row can run in any order. */
  allowed: number | number[];
  request(): { path: string; method?: string; body?: unknown };
}

let freshAdminId = 5_100_000;
const ENDPOINTS: Endpoint[] = [
  {
    name: 'GET applications',
    permission: 'view_applications',
    allowed: 200,
    request: () => ({ path: '/api/panel/applications' }),
  },
  {
    name: 'POST accept',
    permission: 'manage_clients',
    allowed: 404,
    request: () => ({ method: 'POST', path: `/api/panel/applications/${randomUUID()}/accept` }),
  },
  {
    name: 'POST reject',
    permission: 'manage_clients',
    allowed: 404,
    request: () => ({ method: 'POST', path: `/api/panel/applications/${randomUUID()}/reject` }),
  },
  {
    name: 'GET clients',
    permission: 'manage_clients',
    allowed: 200,
    request: () => ({ path: '/api/panel/clients' }),
  },
  {
    name: 'DELETE client',
    permission: 'manage_clients',
    allowed: 404,
    request: () => ({ method: 'DELETE', path: '/api/panel/clients/5999999' }),
  },
  {
    name: 'GET metrics',
    permission: 'view_applications',
    // 202 until the metrics job has computed them for the first time.
    allowed: [200, 202],
    request: () => ({ path: '/api/panel/metrics' }),
  },
  {
    name: 'GET admins',
    permission: 'manage_admins',
    allowed: 200,
    request: () => ({ path: '/api/panel/admins' }),
  },
  {
    name: 'GET admin',
    permission: 'manage_admins',
    allowed: 200,
    request: () => ({ path: `/api/panel/admins/${CALLERS.support}` }),
  },
  {
    name: 'PUT admin',
    permission: 'manage_admins',
    allowed: 200,
    request: () => ({
      method: 'PUT',
      path: `/api/panel/admins/${freshAdminId++}`,
      body: { role: 'support' },
    }),
  },
  {
    name: 'DELETE admin',
    permission: 'manage_admins',
    allowed: 404,
    request: () => ({ method: 'DELETE', path: '/api/panel/admins/5999998' }),
  },
  {
    name: 'GET audit-log',
    permission: 'manage_admins',
    allowed: 200,
    request: () => ({ path: '/api/panel/audit-log' }),
  },
  {
    name: 'POST broadcasts',
    permission: 'manage_clients',
    allowed: 202,
    request: () => ({
      method: 'POST',
      path: '/api/panel/broadcasts',
      body: { text: 'Hi', segment: 'clients' },
    }),
  },
  {
    name: 'GET broadcast',
    permission: 'manage_clients',
    allowed: 404,
    request: () => ({ path: `/api/panel/broadcasts/${randomUUID()}` }),
  },
  {
    name: 'GET my preferences',
    permission: 'view_applications',
    allowed: 200,
    request: () => ({ path: '/api/panel/me/preferences' }),
  },
  {
    name: 'PUT my preferences',
    permission: 'view_applications',
    allowed: 200,
    request: () => ({
      method: 'PUT',
      path: '/api/panel/me/preferences',
      body: { notifyNewApplications: true },
    }),
  },
];

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    worker: false,
    env: { TELEGRAM_ADMINS: String(CALLERS['configured owner']) },
  });
  const em = system.em();
  await seedUsers(em, [CALLERS.none!]);
  for (const role of ['support', 'trainer', 'owner'] as const)
    await seedUsers(em, [CALLERS[role]!], { role });
});
test.after.always(async () => {
  await system?.stop();
});

function send(endpoint: Endpoint, auth?: string) {
  const { path, method, body } = endpoint.request();
  return system.request(path, {
    method: method ?? 'GET',
    ...(auth ? { auth } : {}),
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

for (const endpoint of ENDPOINTS) {
  test(`${endpoint.name}: no credentials → 401`, async (t) => {
    const response = await send(endpoint);
    t.is(response.status, 401);
    t.is((await response.json()).error.code, 'missing_credentials');
  });

  for (const [role, grants] of Object.entries(GRANTS)) {
    const allowed = grants.includes(endpoint.permission);
    test(`${endpoint.name} as ${role} → ${allowed ? endpoint.allowed : 403}`, async (t) => {
      const response = await send(endpoint, authHeader({ id: CALLERS[role]! }));
      const body = response.status === 204 ? null : await response.json();
      if (!allowed) {
        t.is(response.status, 403, JSON.stringify(body));
        t.is(body.error.code, role === 'none' ? 'not_an_admin' : 'permission_denied');
        return;
      }
      t.true(
        [endpoint.allowed].flat().includes(response.status),
        `${response.status} ${JSON.stringify(body)}`,
      );
    });
  }
}
