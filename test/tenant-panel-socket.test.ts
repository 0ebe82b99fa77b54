import test from 'ava';
import { WebSocket } from 'ws';
import { forkForTenant } from '../src/db/orm.ts';
import { createPanelSession } from '../src/domain/panel-sessions.ts';
import { PANEL_WS_PATH } from '../src/http/panel-websocket.ts';
import { authHeader, initDataFor, validAnswers } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem, type TestTenant } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// The panel WebSocket with two coaches: the auth message names the tenant ("tenant": "<slug>"),
// credentials count only at their own coach, and one coach's events never reach the other's panel.

const DEFAULT_OWNER = 7_720_001;
const B_OWNER = 7_720_002;

let system: TestSystem;
let b: TestTenant;

test.before(async () => {
  system = await startTestSystem({
    worker: false,
    tenants: [{ slug: 'b' }],
    env: { TELEGRAM_ADMINS: String(DEFAULT_OWNER) },
  });
  b = system.tenants.b!;
  await seedUsers(forkForTenant(system.orm, b.id), [B_OWNER], { role: 'owner', tenantId: b.id });
});
test.after.always(async () => {
  await system?.stop();
});

interface Panel {
  events: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  ready: Promise<boolean>;
  close(): void;
}

function open(first: object, headers: Record<string, string> = {}): Panel {
  const ws = new WebSocket(`${system.baseUrl.replace('http', 'ws')}${PANEL_WS_PATH}`, { headers });
  const events: Record<string, unknown>[] = [];
  let onReady: (ready: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => {
    onReady = resolve;
  });
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString()) as Record<string, unknown>;
    events.push(event);
    if (event.type === 'ready') onReady(true);
  });
  ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', ...first })));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => {
      onReady(false);
      resolve({ code, reason: reason.toString() });
    }),
  );
  return { events, closed, ready, close: () => ws.close() };
}

const bInitData = (id: number) => initDataFor({ id }, { token: b.botToken });

test("the auth message's tenant decides whose bot, sessions and owners count; unknown tenants are 4401", async (t) => {
  const cases: Array<[string, object, { code: number; reason: string }]> = [
    [
      "default bot's initData for b",
      { initData: initDataFor({ id: B_OWNER }), tenant: 'b' },
      { code: 4401, reason: 'invalid_init_data' },
    ],
    [
      "b's initData without a tenant",
      { initData: bInitData(B_OWNER) },
      { code: 4401, reason: 'invalid_init_data' },
    ],
    [
      'an unknown tenant',
      { initData: bInitData(B_OWNER), tenant: 'nobody' },
      { code: 4401, reason: 'tenant_not_found' },
    ],
    [
      'a malformed tenant',
      { initData: bInitData(B_OWNER), tenant: 'B' },
      { code: 4401, reason: 'invalid_tenant' },
    ],
    [
      'a tenant that is not a string',
      { initData: bInitData(B_OWNER), tenant: 2 },
      { code: 4401, reason: 'invalid_auth_message' },
    ],
    // TELEGRAM_ADMINS are owners of the default tenant only.
    [
      'the configured owner at b',
      { initData: bInitData(DEFAULT_OWNER), tenant: 'b' },
      { code: 4403, reason: 'not_an_admin' },
    ],
  ];
  const results = await Promise.all(cases.map(([, first]) => open(first).closed));
  for (const [index, [name, , expected]] of cases.entries()) t.like(results[index], expected, name);

  const own = open({ initData: bInitData(B_OWNER), tenant: 'b' });
  t.true(await own.ready, "b's owner with b's initData");
  own.close();
});

test('a session cookie opens the socket of its own coach only', async (t) => {
  const session = await createPanelSession(forkForTenant(system.orm, b.id), {
    tenantId: b.id,
    telegramId: String(B_OWNER),
    ttlSeconds: 3600,
  });
  const cookie = { cookie: `coach_panel_session_b=${session.token}` };
  const ok = open({ session: true, tenant: 'b' }, cookie);
  t.true(await ok.ready);
  ok.close();
  t.like(await open({ session: true }, cookie).closed, { code: 4401, reason: 'missing_session' });
  const renamed = { cookie: `coach_panel_session=${session.token}` };
  t.like(await open({ session: true }, renamed).closed, { code: 4401, reason: 'invalid_session' });
});

test("events of b's clients reach b's panel, never the default coach's", async (t) => {
  const atDefault = open({ initData: initDataFor({ id: DEFAULT_OWNER }) });
  const atB = open({ initData: bInitData(B_OWNER), tenant: 'b' });
  t.true(await atDefault.ready);
  t.true(await atB.ready);

  const submit = async (auth: string, headers: Record<string, string>) => {
    const response = await system.request('/api/surveys', {
      method: 'POST',
      auth,
      headers,
      body: JSON.stringify({ answers: validAnswers }),
    });
    t.is(response.status, 202);
    return ((await response.json()) as { applicationId: string }).applicationId;
  };
  const bApplication = await submit(b.authHeader({ id: 7_720_010 }), { 'x-tenant': 'b' });
  const defaultApplication = await submit(authHeader({ id: 7_720_011 }), {});
  const heard = (panel: Panel, id: string) =>
    panel.events.some((event) => event.type === 'application.created' && event.applicationId === id);
  // One publisher and one subscriber connection keep Redis's order: once the default panel has the
  // later event, b's earlier one would have reached it already, had it been sent there.
  await waitFor(
    'each panel hears its own application',
    () => heard(atB, bApplication) && heard(atDefault, defaultApplication),
  );
  t.false(heard(atDefault, bApplication), "b's application never reaches the default panel");
  t.false(heard(atB, defaultApplication), "the default coach's application never reaches b's panel");
  atDefault.close();
  atB.close();
});
