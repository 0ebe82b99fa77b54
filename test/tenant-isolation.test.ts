import { randomUUID } from 'node:crypto';
import test from 'ava';
import { WebSocket } from 'ws';
import type { z } from 'zod';
import { StarPayment } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import { createPanelSession } from '../src/domain/panel-sessions.ts';
import { PANEL_WS_PATH } from '../src/http/panel-websocket.ts';
import { ROUTES } from '../src/http/route-table.ts';
import type { Access } from '../src/http/routing/access.ts';
import type { RouteDefinition } from '../src/http/routing/define-route.ts';
import { authHeader, initDataFor, validAnswers } from './helpers/init-data.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { seedSubscription, seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * Tenant isolation, derived from the route table: every declared route × {own tenant, other
 * tenant} × every role. Tenant `default` (A) and tenant `b` (B) have the same staff (the same
 * Telegram ids with the same roles) and each their own bot, so nothing but the tenant separates
 * them. B's data carries markers (its ids, its clients' names); from A nothing of it may be read,
 * written, counted or delivered.
 */
const PLATFORM_BOT_SECRET = 'isolation-platform-bot-secret-0123456789';
const B_MARKER = 'Bmarker';
type Role = 'support' | 'trainer' | 'owner';
const GRANTS: Record<Role, string[]> = {
  support: ['view_applications'],
  trainer: ['view_applications', 'manage_clients'],
  owner: ['view_applications', 'manage_clients', 'view_revenue', 'manage_admins'],
};
const STAFF: Array<{ telegramId: number; role: Role }> = [
  { telegramId: 810002, role: 'support' },
  { telegramId: 810003, role: 'trainer' },
  { telegramId: 810004, role: 'owner' },
];
const A_CLIENT = 810001;
const B_CLIENT = 910001;
const B_CLIENT_TWO = 910002;

/** Tenant-scoped routes: the ones a caller reaches as somebody of one coach. */
const TENANT_ROUTES = ROUTES.filter((route) => ['miniApp', 'panel', 'botApi'].includes(route.access.kind));

interface Caller {
  name: string;
  role: Role | null;
  /** Headers that authenticate this caller in its own tenant. */
  headers(): Record<string, string>;
  kind: 'tma' | 'session' | 'bot';
}

let system: TestSystem;
const b = () => system.tenants.b!;
/** B's object ids, by route parameter; filled in before. */
const bIds: Record<string, string> = {};
const sessionsA = new Map<string, string>();
const sessionsB = new Map<string, string>();

/** New browser sessions for the staff of these tenants: logging out is one of the routes. */
async function freshSessions(tenants: Array<'a' | 'b'>): Promise<void> {
  for (const tenantId of tenants.map((tenant) => (tenant === 'a' ? DEFAULT_TENANT_ID : b().id))) {
    const em = forkForTenant(system.orm, tenantId);
    for (const { telegramId } of STAFF) {
      const { token } = await createPanelSession(em, {
        tenantId,
        telegramId: String(telegramId),
        ttlSeconds: 3600,
      });
      (tenantId === DEFAULT_TENANT_ID ? sessionsA : sessionsB).set(String(telegramId), token);
    }
  }
}

function example(schema: z.ZodType | undefined): unknown {
  return (schema?.meta() as { examples?: unknown[] } | undefined)?.examples?.[0];
}
const bodyOf = (route: RouteDefinition) => {
  const body = example(route.body);
  return body === undefined ? undefined : JSON.stringify(body);
};
/** The path with every parameter naming one of B's objects. */
const pathAimedAtB = (route: RouteDefinition) =>
  route.path.replace(/:(\w+)/g, (_, name: string) => {
    if (name === 'planId')
      return route.path.includes('subscription-plans') ? bIds.subscriptionPlan! : bIds.plan!;
    return bIds[name] ?? randomUUID();
  });

function callersOf(tenant: 'a' | 'b'): Caller[] {
  const sign = (id: number) =>
    tenant === 'a' ? authHeader({ id, first_name: 'Anna' }) : b().authHeader({ id, first_name: 'Bella' });
  const sessions = tenant === 'a' ? sessionsA : sessionsB;
  const cookieName = tenant === 'a' ? 'coach_panel_session' : 'coach_panel_session_b';
  const tenantHeader: Record<string, string> = tenant === 'a' ? {} : { 'x-tenant': 'b' };
  const client = tenant === 'a' ? A_CLIENT : B_CLIENT;
  return [
    {
      name: `${tenant} client`,
      role: null,
      kind: 'tma',
      headers: () => ({ ...tenantHeader, authorization: sign(client) }),
    },
    ...STAFF.flatMap(({ telegramId, role }): Caller[] => [
      {
        name: `${tenant} ${role}`,
        role,
        kind: 'tma',
        headers: () => ({ ...tenantHeader, authorization: sign(telegramId) }),
      },
      {
        name: `${tenant} ${role} session`,
        role,
        kind: 'session',
        headers: () => ({
          ...tenantHeader,
          cookie: `${cookieName}=${sessions.get(String(telegramId))}`,
          'x-requested-with': 'coach-panel',
        }),
      },
    ]),
    {
      name: `${tenant} bot (platform secret)`,
      role: null,
      kind: 'bot',
      headers: () => ({ ...tenantHeader, 'x-bot-api-secret': PLATFORM_BOT_SECRET }),
    },
  ];
}

/** What a caller gets in its own tenant: 'allowed', or the refusal. */
function expectedInOwnTenant(access: Access, caller: Caller): 'allowed' | 401 | 403 {
  if (access.kind === 'botApi') return caller.kind === 'bot' ? 'allowed' : 403;
  if (caller.kind === 'bot') return 401;
  if (access.kind === 'miniApp') return caller.kind === 'session' ? 401 : 'allowed';
  if (access.kind === 'panel')
    return caller.role && GRANTS[caller.role].includes(access.permission) ? 'allowed' : 403;
  return 'allowed';
}

const send = (route: RouteDefinition, path: string, headers: Record<string, string>) =>
  rawRequest(system.baseUrl, path, { method: route.method, headers, body: bodyOf(route) });

/** Every row of B, table by table, except what B's own schedules rewrite (metrics, billing sync, outbox). */
async function snapshotOfB(): Promise<Record<string, string>> {
  const connection = system.em().getConnection();
  const tables = await connection.execute<{ table_name: string }[]>(
    `select table_name from information_schema.columns
     where column_name = 'tenant_id' and table_schema = 'public'
       and table_name not in ('outbox', 'metrics_snapshot', 'billing_sync_state') order by table_name`,
  );
  const snapshot: Record<string, string> = {};
  for (const { table_name: table } of tables) {
    const rows = await connection.execute(`select * from "${table}" where tenant_id = ? order by 1, 2`, [
      b().id,
    ]);
    snapshot[table] = JSON.stringify(rows);
  }
  return snapshot;
}

const markersOfB = () => [B_MARKER, ...Object.values(bIds).filter((id) => id.length === 36)];

test.before(async () => {
  system = await startTestSystem({
    tenants: [{ slug: 'b' }],
    env: {
      TELEGRAM_ADMINS: '810009',
      TELEGRAM_BOT_API_SECRET: PLATFORM_BOT_SECRET,
      BOT_API_RATE_LIMIT_PER_MINUTE: '1000000',
      PLANS_PER_USER_PER_DAY: '1000',
      PANEL_LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
    },
  });
  // The same staff in both tenants, each tenant's rows its own.
  for (const tenantId of [DEFAULT_TENANT_ID, b().id]) {
    const em = forkForTenant(system.orm, tenantId);
    for (const { telegramId, role } of STAFF) {
      await seedUsers(em, [telegramId], {
        tenantId,
        role,
        firstName: tenantId === DEFAULT_TENANT_ID ? 'Anna' : `Bella ${B_MARKER}`,
      });
    }
  }
  // B's clients go through B's Mini App and bot: a survey, a plan, a test result.
  const asB = (id: number) => ({
    'x-tenant': 'b',
    authorization: b().authHeader({ id, first_name: `Client ${B_MARKER}` }),
    'content-type': 'application/json',
  });
  const surveyRoute = ROUTES.find((route) => route.name === 'submitSurvey' || route.path === '/api/surveys')!;
  for (const client of [B_CLIENT, B_CLIENT_TWO]) {
    const response = await fetch(`${system.baseUrl}/api/surveys`, {
      method: 'POST',
      headers: asB(client),
      body: bodyOf(surveyRoute),
    });
    if (response.status !== 202) throw new Error(`B's survey: ${response.status} ${await response.text()}`);
    const accepted = (await response.json()) as { plan: { id: string }; applicationId: string };
    bIds.plan ??= accepted.plan.id;
    bIds.applicationId ??= accepted.applicationId;
  }
  bIds.telegramId = String(B_CLIENT);
  // A's client, so A's lists have something of their own.
  await system.submitSurvey(A_CLIENT);

  const ownerB = {
    'x-tenant': 'b',
    authorization: b().authHeader({ id: 810004 }),
    'content-type': 'application/json',
  };
  const plans = ROUTES.find(
    (route) => route.method === 'POST' && route.path === '/api/panel/subscription-plans',
  )!;
  const createdPlan = await fetch(`${system.baseUrl}${plans.path}`, {
    method: 'POST',
    headers: ownerB,
    body: bodyOf(plans),
  });
  if (createdPlan.status !== 201)
    throw new Error(`B's plan: ${createdPlan.status} ${await createdPlan.text()}`);
  bIds.subscriptionPlan = ((await createdPlan.json()) as { id: string }).id;
  const broadcasts = ROUTES.find(
    (route) => route.method === 'POST' && route.path === '/api/panel/broadcasts',
  )!;
  // Every client of B's, so the broadcast reaches both.
  await waitFor(
    'B clients ready',
    async () => {
      const sent = b().telegram.sentMessages.filter((message) =>
        [String(B_CLIENT), String(B_CLIENT_TWO)].includes(message.chatId),
      );
      return sent.length >= 2;
    },
    30_000,
  );
  const broadcast = await fetch(`${system.baseUrl}${broadcasts.path}`, {
    method: 'POST',
    headers: ownerB,
    body: JSON.stringify({ text: `News from ${B_MARKER}`, segment: 'all' }),
  });
  if (broadcast.status !== 202 && broadcast.status !== 201) {
    throw new Error(`B's broadcast: ${broadcast.status} ${await broadcast.text()}`);
  }
  bIds.broadcastId = ((await broadcast.json()) as { id: string }).id;
  // A paid subscription of B's client, with its Stars payment.
  const emB = forkForTenant(system.orm, b().id);
  const [bClient] = await emB
    .getConnection()
    .execute<{ id: string }[]>('select id from telegram_user where tenant_id = ? and telegram_id = ?', [
      b().id,
      String(B_CLIENT),
    ]);
  const subscription = seedSubscription(emB, { id: bClient!.id, tenantId: b().id });
  await emB.flush();
  bIds.chargeId = `charge-${B_MARKER}-${randomUUID()}`;
  emB.create(StarPayment, {
    tenantId: b().id,
    chargeId: bIds.chargeId,
    userId: bClient!.id,
    subscriptionId: subscription.id,
    planId: bIds.subscriptionPlan,
    amount: 250,
    currency: 'XTR',
    invoicePayload: 'seeded',
    isRecurring: true,
    isFirstRecurring: true,
    expiresAt: null,
    paidAt: new Date(),
    refundedAt: null,
    recordedBy: 'update',
  });
  await emB.flush();
  await waitFor(
    'B broadcast delivered',
    () => b().telegram.sentMessages.some((message) => message.text.includes(`News from ${B_MARKER}`)),
    30_000,
  );
});
test.after.always(async () => {
  await system?.stop();
});

test.serial(
  'from A, with A’s credentials naming tenant b: every tenant route is 401 for every role',
  async (t) => {
    for (const route of TENANT_ROUTES) {
      await freshSessions(['a']);
      for (const caller of callersOf('a')) {
        // The platform secret of our own bot process may name any tenant: it is not A's credential.
        if (caller.kind === 'bot') continue;
        const response = await send(route, pathAimedAtB(route), { ...caller.headers(), 'x-tenant': 'b' });
        const label = `${route.method} ${route.path} as ${caller.name} with X-Tenant: b → ${response.status} ${response.text.slice(0, 200)}`;
        // botApi routes refuse everything but their secret with 403, whoever it names.
        t.is(response.status, route.access.kind === 'botApi' ? 403 : 401, label);
      }
    }
  },
);

test.serial(
  'from A, in A, aimed at B’s objects: nothing of B is read, written, counted or delivered',
  async (t) => {
    const before = await snapshotOfB();
    const deliveredByB = b().telegram.sentMessages.length;
    const markers = markersOfB();
    for (const route of TENANT_ROUTES) {
      await freshSessions(['a']);
      for (const caller of callersOf('a')) {
        const response = await send(route, pathAimedAtB(route), caller.headers());
        const label = `${route.method} ${route.path} as ${caller.name} → ${response.status} ${response.text.slice(0, 300)}`;
        t.true(response.status < 500, label);
        for (const marker of markers) t.false(response.text.includes(marker), `${label}\nleaks ${marker}`);
        // An id of B's names nothing in A.
        const namesAnObjectOfB = /:(planId|broadcastId|chargeId)/.test(route.path);
        if (namesAnObjectOfB) t.true(response.status >= 400, label);
      }
    }
    const after = await snapshotOfB();
    t.deepEqual(Object.keys(after), Object.keys(before));
    for (const table of Object.keys(before))
      t.is(after[table], before[table], `B’s ${table} rows are unchanged`);
    t.is(b().telegram.sentMessages.length, deliveredByB, 'B’s bot sent nothing for A');
  },
);

test.serial('A’s lists and counts hold only A’s rows', async (t) => {
  const owner = { authorization: authHeader({ id: 810004 }) };
  const applications = await (await system.request('/api/panel/applications', { headers: owner })).json();
  const clients = await (await system.request('/api/panel/clients', { headers: owner })).json();
  const text = JSON.stringify({ applications, clients });
  for (const marker of markersOfB()) t.false(text.includes(marker), marker);
  t.true(text.includes(String(A_CLIENT)), 'A sees its own client');
});

/** A panel socket: its events, and how it closed. */
function panelSocket(first: Record<string, unknown>) {
  const ws = new WebSocket(`${system.baseUrl.replace('http', 'ws')}${PANEL_WS_PATH}`);
  const events: Array<Record<string, unknown>> = [];
  ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', ...first })));
  ws.on('message', (data) => events.push(JSON.parse(data.toString())));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return { ws, events, closed };
}

test.serial('live events: B’s reach B’s panel only; A’s initData cannot open B’s socket', async (t) => {
  const onA = panelSocket({ initData: initDataFor({ id: 810004 }) });
  const onB = panelSocket({ initData: initDataFor({ id: 810004 }, { token: b().botToken }), tenant: 'b' });
  await waitFor('both panels ready', () =>
    [onA, onB].every((panel) => panel.events.some((event) => event.type === 'ready')),
  );
  const response = await fetch(`${system.baseUrl}/api/surveys`, {
    method: 'POST',
    headers: {
      'x-tenant': 'b',
      authorization: b().authHeader({ id: 910003, first_name: `Late ${B_MARKER}` }),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(response.status, 202);
  const { plan } = (await response.json()) as { plan: { id: string } };
  await waitFor('B’s panel hears of B’s plan', () => JSON.stringify(onB.events).includes(plan.id));
  // A's panel: its own heartbeat still answers after B's events went out, and none of them came.
  onA.ws.send(JSON.stringify({ type: 'ping' }));
  await waitFor('A’s pong', () => onA.events.some((event) => event.type === 'pong'));
  t.false(JSON.stringify(onA.events).includes(plan.id));
  t.false(JSON.stringify(onA.events).includes(B_MARKER));
  // Bot A's initData naming tenant b, and B's naming the default tenant: both refused.
  t.is(await panelSocket({ initData: initDataFor({ id: 810004 }), tenant: 'b' }).closed, 4401);
  t.is(await panelSocket({ initData: initDataFor({ id: 810004 }, { token: b().botToken }) }).closed, 4401);
  onA.ws.close();
  onB.ws.close();
});

test.serial('in B, with B’s credentials: each role gets what it gets in any tenant', async (t) => {
  for (const route of TENANT_ROUTES) {
    await freshSessions(['b']);
    for (const caller of callersOf('b')) {
      const expected = expectedInOwnTenant(route.access, caller);
      const response = await send(route, pathAimedAtB(route), caller.headers());
      const label = `${route.method} ${route.path} as ${caller.name} → ${response.status} ${response.text.slice(0, 300)}`;
      // B's seeded charge is unknown to B's fake Bot API, which refuses its refund: past every guard.
      const refusedByTelegram = response.status === 502 && response.text.includes('telegram_refused');
      t.true(response.status < 500 || refusedByTelegram, label);
      if (expected === 'allowed') t.true(response.status !== 401 && response.status !== 403, label);
      else t.is(response.status, expected, label);
    }
  }
});
