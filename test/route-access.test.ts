import { createHmac, randomUUID } from 'node:crypto';
import test from 'ava';
import type { z } from 'zod';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import { createPanelSession } from '../src/domain/panel-sessions.ts';
import { ROUTES } from '../src/http/route-table.ts';
import type { RouteDefinition } from '../src/http/routing/define-route.ts';
import { authHeader } from './helpers/init-data.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * Every declared route, probed as every kind of caller, at its exact path and at the variants an
 * attacker would try. Derived from ROUTES: a new route is covered by declaring it. Who may do what
 * is restated from the product's roles (owner, trainer, support), not read from the permission map.
 */
const BOT_SECRET = 'route-access-bot-secret-0123456789';
const WEBHOOK_SECRET = 'route-access-webhook-secret';
const METRICS_TOKEN = 'route-access-metrics-token';
const BILLING_SECRET = 'route-access-billing-webhook-secret';
const BOARD = { user: 'ops', password: 'route-access-board-password' };

type Permission = 'view_applications' | 'manage_clients' | 'view_revenue' | 'manage_admins';
const GRANTS: Record<string, Permission[]> = {
  support: ['view_applications'],
  trainer: ['view_applications', 'manage_clients'],
  owner: ['view_applications', 'manage_clients', 'view_revenue', 'manage_admins'],
};

interface Caller {
  name: string;
  headers: Record<string, string>;
  /** Telegram users: their role, or null for a plain Mini App user. */
  role?: keyof typeof GRANTS | null;
  kind?: 'bot' | 'webhook' | 'metrics' | 'ops' | 'billing';
  /** Telegram: whose bot's webhook secret it sends (each tenant's webhook checks its own). */
  webhookOf?: 'default' | 'b';
  /**
   * A browser with a panel session cookie (and the CSRF header the panel page sends); a fresh
   * session per route, since logging out is one of the routes. `cookieName` sends the token under
   * another name, which must open nothing.
   */
  session?: { telegramId: string; cookieName?: string; tenant?: 'b' };
}

const tma = (id: number) => ({ authorization: authHeader({ id }) });
const CALLERS: Caller[] = [
  { name: 'nobody', headers: {} },
  { name: 'Mini App user', headers: tma(700001), role: null },
  { name: 'support', headers: tma(700002), role: 'support' },
  { name: 'trainer', headers: tma(700003), role: 'trainer' },
  { name: 'owner', headers: tma(700004), role: 'owner' },
  { name: 'configured owner', headers: tma(700005), role: 'owner' },
  { name: 'bot', headers: { 'x-bot-api-secret': BOT_SECRET }, kind: 'bot' },
  {
    name: 'telegram',
    headers: { 'x-telegram-bot-api-secret-token': WEBHOOK_SECRET },
    kind: 'webhook',
    webhookOf: 'default',
  },
  // Its header is the HMAC of each request's body, added when sending (headersFor).
  { name: 'billing service', headers: {}, kind: 'billing' },
  { name: 'prometheus', headers: { authorization: `Bearer ${METRICS_TOKEN}` }, kind: 'metrics' },
  {
    name: 'ops',
    headers: { authorization: `Basic ${Buffer.from(`${BOARD.user}:${BOARD.password}`).toString('base64')}` },
    kind: 'ops',
  },
  { name: 'support session', headers: {}, role: 'support', session: { telegramId: '700002' } },
  { name: 'trainer session', headers: {}, role: 'trainer', session: { telegramId: '700003' } },
  { name: 'owner session', headers: {}, role: 'owner', session: { telegramId: '700004' } },
  { name: 'configured owner session', headers: {}, role: 'owner', session: { telegramId: '700005' } },
  // Its user had a role at login and lost it since.
  { name: 'session of a revoked admin', headers: {}, role: null, session: { telegramId: '700006' } },
  {
    name: 'owner session under another letter case',
    headers: {},
    session: { telegramId: '700004', cookieName: 'Coach_Panel_Session' },
  },
];

/**
 * Callers of the second coach (tenant `b`, its own bot), added once the system has made it: its
 * own users with its own initData, and credentials of the default tenant presented to it, which
 * must open nothing there (and the other way round).
 */
function tenantCallers(b: TestSystem['tenants'][string], bWebhookSecret: string): Caller[] {
  const asB = { 'x-tenant': 'b' };
  return [
    {
      name: "telegram for b's bot",
      headers: { 'x-telegram-bot-api-secret-token': bWebhookSecret },
      kind: 'webhook',
      webhookOf: 'b',
    },
    {
      name: "b's Mini App user",
      headers: { ...asB, authorization: b.authHeader({ id: 700001 }) },
      role: null,
    },
    { name: "b's owner", headers: { ...asB, authorization: b.authHeader({ id: 700004 }) }, role: 'owner' },
    // TELEGRAM_ADMINS name owners of the default tenant only.
    {
      name: 'configured owner of the default tenant at b',
      headers: { ...asB, authorization: b.authHeader({ id: 700005 }) },
      role: null,
    },
    {
      name: 'default-bot initData sent to b',
      headers: { ...asB, authorization: authHeader({ id: 700004 }) },
    },
    { name: "b's initData without X-Tenant", headers: { authorization: b.authHeader({ id: 700004 }) } },
    {
      name: "b's owner session",
      headers: asB,
      role: 'owner',
      session: { telegramId: '700004', tenant: 'b' },
    },
    {
      name: "b's owner session cookie without X-Tenant",
      headers: {},
      session: { telegramId: '700004', tenant: 'b' },
    },
    {
      name: 'default owner session sent to b',
      headers: asB,
      session: { telegramId: '700004', cookieName: 'coach_panel_session' },
    },
    {
      name: 'default owner session under b’s cookie name',
      headers: asB,
      session: { telegramId: '700004', cookieName: 'coach_panel_session_b' },
    },
    { name: 'bot (platform secret) for b', headers: { ...asB, 'x-bot-api-secret': BOT_SECRET }, kind: 'bot' },
    {
      name: "b's own bot secret for b",
      headers: { ...asB, 'x-bot-api-secret': b.botApiSecret },
      kind: 'bot',
    },
    { name: "b's own bot secret for the default tenant", headers: { 'x-bot-api-secret': b.botApiSecret } },
  ];
}

/** The tenant whose slug fills `:tenant` / `:tenantSlug` parameters: the one that exists here. */
const PATH_TENANT = 'b';
const tenantOfPath = (route: RouteDefinition) => (/:tenant(Slug)?\b/.test(route.path) ? 'b' : 'default');

/** The status a caller must get at the exact path when refused, or 'allowed'. */
function expectedFor(route: RouteDefinition, caller: Caller): 'allowed' | 401 | 403 {
  const access = route.access;
  switch (access.kind) {
    case 'public':
    case 'panelSocket':
      return 'allowed';
    case 'miniApp':
      // The panel's cookie never opens a client route.
      return caller.role === undefined || caller.session ? 401 : 'allowed';
    case 'panel':
      if (caller.role === undefined) return 401;
      return caller.role && GRANTS[caller.role]!.includes(access.permission) ? 'allowed' : 403;
    case 'panelLogin':
      // The example body is Login Widget data nobody signed: refused whoever sends it.
      return 401;
    case 'botApi':
      return caller.kind === 'bot' ? 'allowed' : 403;
    case 'webhook':
      return caller.kind === 'webhook' && caller.webhookOf === tenantOfPath(route) ? 'allowed' : 401;
    case 'billingWebhook':
      return caller.kind === 'billing' ? 'allowed' : 401;
    case 'metrics':
      return caller.kind === 'metrics' ? 'allowed' : 401;
    case 'opsBasic':
      return caller.kind === 'ops' ? 'allowed' : 401;
  }
}

/** The billing service signs every body it sends; everyone else sends their fixed headers. */
function headersFor(
  caller: Caller,
  body: string | undefined,
  sessions: Map<Caller, string>,
): Record<string, string> {
  const token = sessions.get(caller);
  if (token) {
    const ownName = caller.session?.tenant
      ? `coach_panel_session_${caller.session.tenant}`
      : 'coach_panel_session';
    const name = caller.session?.cookieName ?? ownName;
    return { ...caller.headers, cookie: `${name}=${token}`, 'x-requested-with': 'coach-panel' };
  }
  if (caller.kind !== 'billing') return caller.headers;
  const signature = createHmac('sha256', BILLING_SECRET)
    .update(body ?? '')
    .digest('hex');
  return { ...caller.headers, 'x-billing-signature': `sha256=${signature}` };
}

/** The example body; a billing webhook's `sentAt` is now, or its replay window would refuse it. */
function exampleBody(route: RouteDefinition): string | undefined {
  const body = example(route.body);
  if (body === undefined) return undefined;
  if (route.access.kind !== 'billingWebhook') return JSON.stringify(body);
  return JSON.stringify({ ...(body as object), sentAt: Math.floor(Date.now() / 1000) });
}

function example(schema: z.ZodType | undefined): unknown {
  return (schema?.meta() as { examples?: unknown[] } | undefined)?.examples?.[0];
}

/** The exact path with every parameter filled: its example, or a fresh valid value. */
function exactPath(route: RouteDefinition): string {
  const shape = (route.params as z.ZodObject | undefined)?.shape ?? {};
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    const declared = example(shape[name] as z.ZodType | undefined);
    if (name === 'telegramId') return '5999999';
    if (name === 'tenant' || name === 'tenantSlug') return PATH_TENANT;
    return typeof declared === 'string' && !/^[0-9a-f-]{36}$/.test(declared) ? declared : randomUUID();
  });
}

/** Rewrites the literal segments only, so a variant never lands on another route by its params. */
function variants(path: string): Record<string, string> {
  // The pages (`/app/`): the variants of the path without its slash, each given the slash back.
  if (path.length > 1 && path.endsWith('/')) {
    const spelled = Object.entries(variants(path.slice(0, -1))).map(([name, variant]) => [
      name,
      `${variant}/`,
    ]);
    return Object.fromEntries(spelled);
  }
  const segments = path.split('/').slice(1);
  const literal = (index: number) =>
    segments[index] !== undefined && !/^[0-9a-f-]{36}$|^\d+$/.test(segments[index]!);
  const mapLiterals = (fn: (segment: string, index: number) => string) =>
    `/${segments.map((segment, index) => (literal(index) ? fn(segment, index) : segment)).join('/')}`;
  const last = segments.findLastIndex((_, index) => literal(index));
  const encodeFirst = (upper: boolean) =>
    mapLiterals((segment, index) => {
      if (index !== last) return segment;
      const hex = segment.charCodeAt(0).toString(16);
      return `%${upper ? hex.toUpperCase() : hex}${segment.slice(1)}`;
    });
  return {
    'upper case': path.toUpperCase(),
    'mixed case': mapLiterals((segment) => segment[0]!.toUpperCase() + segment.slice(1)),
    'one letter upper': mapLiterals((segment, index) =>
      index === last ? segment.slice(0, -1) + segment.at(-1)!.toUpperCase() : segment,
    ),
    'trailing slash': `${path}/`,
    'leading double slash': `/${path}`,
    'inner double slash': path.replace(/\/([^/]+)$/, '//$1'),
    'encoded letter': encodeFirst(false),
    'encoded letter, upper hex': encodeFirst(true),
    'dot segment': path.replace(/^\/([^/]+)/, '/$1/.'),
    'dot-dot segment': path.replace(/^\/([^/]+)/, '/$1/x/..'),
    // Only between segments: a request target must start with "/" (Node answers 400 otherwise).
    ...(segments.length > 1 ? { 'encoded slash': path.replace(/\/([^/]+)$/, '%2F$1') } : {}),
  };
}

/** A variant may spell another declared route (`/api/plans/latesT` is a plan id): its own guard runs. */
function otherRouteMatching(
  method: string,
  path: string,
  self: RouteDefinition,
): RouteDefinition | undefined {
  return ROUTES.find(
    (route) =>
      route !== self &&
      route.method === method &&
      new RegExp(`^${route.path.replace(/:\w+/g, '[^/]+')}$`).test(path),
  );
}

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    worker: false,
    tenants: [{ slug: 'b' }],
    env: {
      TELEGRAM_ADMINS: '700005',
      TELEGRAM_BOT_API_SECRET: BOT_SECRET,
      BOT_API_RATE_LIMIT_PER_MINUTE: '1000000',
      TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      METRICS_TOKEN,
      BILLING_WEBHOOK_SECRET: BILLING_SECRET,
      BULL_BOARD_USER: BOARD.user,
      BULL_BOARD_PASSWORD: BOARD.password,
      PLANS_PER_USER_PER_DAY: '1000',
      PANEL_LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
    },
  });
  const em = system.em();
  await seedUsers(em, [700001, 700006]);
  for (const [id, role] of [
    [700002, 'support'],
    [700003, 'trainer'],
    [700004, 'owner'],
  ] as const)
    await seedUsers(em, [id], { role });
  const b = system.tenants.b!;
  await seedUsers(forkForTenant(system.orm, b.id), [700001], { tenantId: b.id });
  await seedUsers(forkForTenant(system.orm, b.id), [700004], { role: 'owner', tenantId: b.id });
  const bWebhookSecret = (await system.tenantDirectory.bySlug('b'))?.webhookSecret;
  if (!bWebhookSecret) throw new Error('tenant b has no webhook secret');
  CALLERS.push(...tenantCallers(b, bWebhookSecret));
});
test.after.always(async () => {
  await system?.stop();
});

test('every route has what the table-derived tests need', (t) => {
  for (const route of ROUTES) {
    if (route.body) t.not(example(route.body), undefined, `${route.name}: body example`);
    // Only the pages end in a slash (`/app/`): the URL Telegram opens, with relative links below it.
    const pageStyle = route.tags.includes('Web pages') && route.path.endsWith('/');
    t.true(
      route.path.startsWith('/') && (pageStyle || !route.path.endsWith('/')),
      `${route.name}: exact path`,
    );
  }
  const keys = ROUTES.map((route) => `${route.method} ${route.path}`);
  t.is(new Set(keys).size, keys.length, 'a method and path are declared once');
});

for (const route of ROUTES) {
  test(`${route.method} ${route.path} (${route.access.kind}): exact path and every variant, as every caller`, async (t) => {
    const body = exampleBody(route);
    const path = exactPath(route);
    const sessions = new Map<Caller, string>();
    for (const caller of CALLERS) {
      if (!caller.session) continue;
      const tenantId = caller.session.tenant ? system.tenants[caller.session.tenant]!.id : DEFAULT_TENANT_ID;
      const { token } = await createPanelSession(forkForTenant(system.orm, tenantId), {
        tenantId,
        telegramId: caller.session.telegramId,
        ttlSeconds: 3600,
      });
      sessions.set(caller, token);
    }
    for (const caller of CALLERS) {
      const expected = expectedFor(route, caller);
      const exact = await rawRequest(system.baseUrl, path, {
        method: route.method,
        headers: headersFor(caller, body, sessions),
        body,
      });
      const label = `${route.method} ${path} as ${caller.name}: ${exact.status} ${exact.text.slice(0, 300)}`;
      t.true(exact.status < 500, label);
      if (expected === 'allowed') {
        t.true(exact.status !== 401 && exact.status !== 403, label);
        t.true(
          String(exact.status) in route.responses || exact.status === 404 || exact.status === 409,
          label,
        );
        const schema = route.responses[exact.status]?.schema;
        if (schema && exact.status < 300) {
          const parsed = schema.safeParse(JSON.parse(exact.text));
          t.true(parsed.success, `${label}\n${parsed.error?.message}`);
        }
      } else {
        t.is(exact.status, expected, label);
      }

      for (const [variant, variantPath] of Object.entries(variants(path))) {
        const response = await rawRequest(system.baseUrl, variantPath, {
          method: route.method,
          headers: headersFor(caller, body, sessions),
          body,
        });
        const what = `${variant} ${route.method} ${variantPath} as ${caller.name}: ${response.status} ${response.text.slice(0, 200)}`;
        t.true(response.status < 500, what);
        // Bull Board's own pages live below its path, behind the same credentials check.
        if (route.access.kind === 'opsBasic' && expected === 'allowed') continue;
        const other = otherRouteMatching(route.method, variantPath, route);
        if (other) {
          const otherExpected = expectedFor(other, caller);
          t.true(
            otherExpected === 'allowed' ? response.status >= 300 : response.status === otherExpected,
            what,
          );
          continue;
        }
        t.true(response.status === 404 || response.status === expected, what);
      }
    }
  });
}
