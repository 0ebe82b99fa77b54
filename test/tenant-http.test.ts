import { randomUUID } from 'node:crypto';
import test from 'ava';
import {
  Application,
  PanelSession,
  SubscriptionPlan,
  TelegramUser,
  Tenant,
} from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import { createPanelSession } from '../src/domain/panel-sessions.ts';
import { createTenant } from '../src/tenants/tenant-admin.ts';
import { sealContext, secretBoxOf } from '../src/tenants/tenant-directory.ts';
import { expectError } from './helpers/expect-error.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { loginWidgetFor } from './helpers/login-widget.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem, type TestTenant } from './helpers/test-system.ts';

// Tenant resolution over HTTP: X-Tenant on API calls, initData and Login Widget data checked
// against that coach's bot, panel owners and sessions per coach, the bot API's secrets, and the
// pages under /app/<slug>/ and /panel/<slug>/.

const DEFAULT_OWNER = 7_710_001;
const B_OWNER = 7_710_002;
const CLIENT = 7_710_003;
/** Has never opened the default coach's Mini App. */
const B_CLIENT = 7_710_004;
const PLATFORM_SECRET = 'tenant-http-platform-secret';

let system: TestSystem;
let b: TestTenant;

test.before(async () => {
  system = await startTestSystem({
    worker: false,
    tenants: [{ slug: 'b' }],
    env: {
      TELEGRAM_ADMINS: String(DEFAULT_OWNER),
      TELEGRAM_BOT_USERNAME: 'default_coach_bot',
      TELEGRAM_BOT_API_SECRET: PLATFORM_SECRET,
      BOT_API_RATE_LIMIT_PER_MINUTE: '100000',
      PANEL_LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
    },
  });
  b = system.tenants.b!;
  await seedUsers(forkForTenant(system.orm, b.id), [B_OWNER], { role: 'owner', tenantId: b.id });
});
test.after.always(async () => {
  await system?.stop();
});

const asB = (headers: Record<string, string> = {}) => ({ ...headers, 'x-tenant': 'b' });

test('X-Tenant: malformed is 400 invalid_tenant, unknown is 404 tenant_not_found, absent is the default tenant', async (t) => {
  const auth = authHeader({ id: CLIENT });
  for (const slug of ['B', 'b_c', '-b', 'b-', 'x'.repeat(41), 'b, b', '%62']) {
    await expectError(
      t,
      await system.request('/api/me', { auth, headers: { 'x-tenant': slug } }),
      400,
      'invalid_tenant',
    );
  }
  await expectError(
    t,
    await system.request('/api/me', { auth, headers: { 'x-tenant': 'nobody' } }),
    404,
    'tenant_not_found',
  );
  // Refused before any credential is looked at: the public routes answer the same.
  await expectError(
    t,
    await system.request('/api/panel/login-options', { headers: { 'x-tenant': 'nobody' } }),
    404,
    'tenant_not_found',
  );
  t.is((await system.request('/api/me', { auth })).status, 200);
  t.is((await system.request('/api/me', { auth, headers: { 'x-tenant': 'default' } })).status, 200);
});

test("initData counts only at its own bot's tenant; b's survey lands in tenant b alone", async (t) => {
  await expectError(
    t,
    await system.request('/api/me', { auth: authHeader({ id: B_CLIENT }), headers: asB() }),
    401,
    'invalid_init_data',
  );
  await expectError(
    t,
    await system.request('/api/me', { auth: b.authHeader({ id: B_CLIENT }) }),
    401,
    'invalid_init_data',
  );

  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth: b.authHeader({ id: B_CLIENT }),
    headers: asB(),
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(response.status, 202, await response.clone().text());
  const { applicationId } = (await response.json()) as { applicationId: string };

  const inB = forkForTenant(system.orm, b.id);
  const inDefault = forkForTenant(system.orm, DEFAULT_TENANT_ID);
  t.truthy(await inB.findOne(Application, { id: applicationId }));
  t.is(await inDefault.findOne(Application, { id: applicationId }), null);
  t.is(
    await inDefault.count(TelegramUser, { telegramId: String(B_CLIENT) }),
    0,
    'no user row in the default tenant',
  );

  // The same person opening the default coach's Mini App is someone new there.
  const meThere = await system.request('/api/plans', { auth: authHeader({ id: B_CLIENT }) });
  t.deepEqual(((await meThere.json()) as { items: unknown[] }).items, []);
  const meInB = await system.request('/api/plans', { auth: b.authHeader({ id: B_CLIENT }), headers: asB() });
  t.is(((await meInB.json()) as { items: unknown[] }).items.length, 1);
});

test("TELEGRAM_ADMINS own the default tenant's panel only; b's owner owns b's", async (t) => {
  const path = '/api/panel/applications';
  t.is((await system.request(path, { auth: authHeader({ id: DEFAULT_OWNER }) })).status, 200);
  await expectError(
    t,
    await system.request(path, { auth: b.authHeader({ id: DEFAULT_OWNER }), headers: asB() }),
    403,
    'not_an_admin',
  );
  t.is((await system.request(path, { auth: b.authHeader({ id: B_OWNER }), headers: asB() })).status, 200);
  await expectError(
    t,
    await system.request(path, { auth: authHeader({ id: B_OWNER }) }),
    403,
    'not_an_admin',
  );
});

test("a browser login is per coach: b's bot and owners, b's cookie, and one coach's session opens nothing at the other", async (t) => {
  const options = await system.request('/api/panel/login-options', { headers: asB() });
  t.deepEqual(await options.json(), { botUsername: 'b_coach_bot' });
  const own = await system.request('/api/panel/login-options');
  t.deepEqual(await own.json(), { botUsername: 'default_coach_bot' });

  const login = (data: object, headers: Record<string, string>) =>
    system.request('/api/panel/session', { method: 'POST', headers, body: JSON.stringify(data) });
  // Login Widget data signed by the default bot does not verify at b, and the other way round.
  await expectError(t, await login(loginWidgetFor(B_OWNER), asB()), 401, 'invalid_login');
  await expectError(
    t,
    await login(loginWidgetFor(DEFAULT_OWNER, { token: b.botToken }), {}),
    401,
    'invalid_login',
  );
  // The default tenant's configured owner has no role at b.
  await expectError(
    t,
    await login(loginWidgetFor(DEFAULT_OWNER, { token: b.botToken }), asB()),
    403,
    'not_an_admin',
  );

  const loggedIn = await login(loginWidgetFor(B_OWNER, { token: b.botToken }), asB());
  t.is(loggedIn.status, 200);
  const cookie = loggedIn.headers.get('set-cookie') ?? '';
  t.regex(
    cookie,
    /^coach_panel_session_b=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/api\/panel; HttpOnly; SameSite=Strict/,
  );
  const token = /^coach_panel_session_b=([^;]+)/.exec(cookie)![1]!;
  const rows = await forkForTenant(system.orm, b.id).count(PanelSession, { tenantId: b.id });
  t.true(rows >= 1, 'the session is a row of tenant b');

  const session = (headers: Record<string, string>) =>
    system.request('/api/panel/session', { headers: { 'x-requested-with': 'coach-panel', ...headers } });
  t.is((await session(asB({ cookie: `coach_panel_session_b=${token}` }))).status, 200);
  // Without X-Tenant the default tenant's cookie is read, and there is none.
  await expectError(
    t,
    await session({ cookie: `coach_panel_session_b=${token}` }),
    401,
    'missing_credentials',
  );
  // b's token under the default tenant's cookie name: no such session there.
  await expectError(t, await session({ cookie: `coach_panel_session=${token}` }), 401, 'invalid_session');

  // A session of the default tenant presented to b, under either name.
  const defaultSession = await createPanelSession(system.em(), {
    tenantId: DEFAULT_TENANT_ID,
    telegramId: String(DEFAULT_OWNER),
    ttlSeconds: 3600,
  });
  t.is((await session({ cookie: `coach_panel_session=${defaultSession.token}` })).status, 200);
  await expectError(
    t,
    await session(asB({ cookie: `coach_panel_session=${defaultSession.token}` })),
    401,
    'missing_credentials',
  );
  await expectError(
    t,
    await session(asB({ cookie: `coach_panel_session_b=${defaultSession.token}` })),
    401,
    'invalid_session',
  );

  // Logged in to both coaches in one browser: each request reads its own coach's cookie.
  const both = `coach_panel_session=${defaultSession.token}; coach_panel_session_b=${token}`;
  const asDefault = (await (await session({ cookie: both })).json()) as { user: { telegramId: string } };
  const asCoachB = (await (await session(asB({ cookie: both }))).json()) as { user: { telegramId: string } };
  t.is(asDefault.user.telegramId, String(DEFAULT_OWNER));
  t.is(asCoachB.user.telegramId, String(B_OWNER));
});

test("the bot API: the platform secret works for any tenant, b's own secret for b only", async (t) => {
  await seedUsers(forkForTenant(system.orm, b.id), [7_710_010], { tenantId: b.id });
  const path = '/api/bot/users/7710010';
  const ask = (headers: Record<string, string>) => system.request(path, { headers });
  t.is((await ask(asB({ 'x-bot-api-secret': b.botApiSecret }))).status, 200);
  t.is((await ask(asB({ 'x-bot-api-secret': PLATFORM_SECRET }))).status, 200);
  await expectError(t, await ask({ 'x-bot-api-secret': b.botApiSecret }), 403, 'forbidden');
  // The platform secret at the default tenant sees the default tenant's users: not b's.
  await expectError(t, await ask({ 'x-bot-api-secret': PLATFORM_SECRET }), 404, 'user_not_found');
});

test("a Stars invoice of b's client is made by b's bot", async (t) => {
  const now = new Date();
  const em = forkForTenant(system.orm, b.id);
  const plan = em.create(SubscriptionPlan, {
    id: randomUUID(),
    tenantId: b.id,
    title: 'Coach b monthly',
    description: 'Plans and check-ins',
    priceStars: 250,
    periodDays: 30,
    status: 'active',
    createdAt: now,
    updatedAt: now,
  });
  await em.flush();
  const before = system.telegram.calls.filter((call) => call.method === 'createInvoiceLink').length;
  const response = await system.request('/api/subscriptions', {
    method: 'POST',
    auth: b.authHeader({ id: 7_710_020 }),
    headers: asB(),
    body: JSON.stringify({ planId: plan.id }),
  });
  t.is(response.status, 201, await response.clone().text());
  t.is(b.telegram.calls.filter((call) => call.method === 'createInvoiceLink').length, 1);
  t.is(system.telegram.calls.filter((call) => call.method === 'createInvoiceLink').length, before);
  // The default tenant knows no such plan.
  const elsewhere = await system.request('/api/subscriptions', {
    method: 'POST',
    auth: authHeader({ id: 7_710_020 }),
    body: JSON.stringify({ planId: plan.id }),
  });
  t.is(elsewhere.status, 404);
});

test("b's pages: /app/b/ and /panel/b/ serve the pages, /app/b redirects, unknown or odd slugs are 404", async (t) => {
  for (const path of ['/app/b/', '/panel/b/']) {
    const page = await system.request(path);
    t.is(page.status, 200, path);
    t.regex(page.headers.get('content-type') ?? '', /text\/html/);
    t.regex(page.headers.get('content-security-policy') ?? '', /frame-ancestors/);
  }
  const redirect = await system.request('/app/b?startapp=1', { redirect: 'manual' });
  t.is(redirect.status, 308);
  t.is(redirect.headers.get('location'), '/app/b/?startapp=1');
  await expectError(t, await system.request('/app/nobody/'), 404, 'tenant_not_found');
  await expectError(
    t,
    await system.request('/panel/nobody', { redirect: 'manual' }),
    404,
    'tenant_not_found',
  );
  // The default tenant's pages have one address: /app/, not /app/default/.
  await expectError(t, await system.request('/app/default/'), 404, 'tenant_not_found');
  for (const odd of ['/app/B/', '/App/b/', '/app//b/', '/app/b//', '/app/%62/', '/app/b/x/']) {
    t.is((await system.request(odd, { redirect: 'manual' })).status, 404, odd);
  }
  // b's Mini App link, as the bot and the panel give it out.
  const profile = await system.tenantDirectory.bySlug('b');
  t.is(profile?.miniAppUrl, 'https://coach.example/app/b/');
});

test('a coach whose bot cannot be used: initData is 401 auth_not_configured, the browser login 503', async (t) => {
  // A token sealed for another tenant's row opens with no key here: the directory marks the bot unusable.
  const box = secretBoxOf(system.config)!;
  const { id } = await createTenant(system.orm, box, {
    slug: 'broken',
    name: 'Coach with a broken token',
    botToken: '2999999999:AAFakeBrokenTenantTokenForTheTest',
  });
  await system.orm.em.fork().nativeUpdate(
    Tenant,
    { id },
    {
      botTokenSealed: box.seal(
        '2999999999:AAFakeBrokenTenantTokenForTheTest',
        sealContext(b.id, 'bot_token'),
      ),
    },
  );
  await system.tenantDirectory.refresh();
  t.truthy((await system.tenantDirectory.bySlug('broken'))?.problem);

  const headers = { 'x-tenant': 'broken' };
  const me = await system.request('/api/me', { auth: b.authHeader({ id: CLIENT }), headers });
  await expectError(t, me, 401, 'auth_not_configured');
  const login = await system.request('/api/panel/session', {
    method: 'POST',
    headers,
    body: JSON.stringify(loginWidgetFor(B_OWNER, { token: b.botToken })),
  });
  await expectError(t, login, 503, 'auth_not_configured');
  t.false(
    system.logs.some((line) => line.includes('AAFakeBrokenTenantToken')),
    'the token is never logged',
  );
});
