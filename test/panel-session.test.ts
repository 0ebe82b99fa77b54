import { createHash } from 'node:crypto';
import test from 'ava';
import { Broadcast, PanelSession, TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { authHeader, TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { loginWidgetFor, signLoginWidget } from './helpers/login-widget.ts';
import { panelLogin, withCookie } from './helpers/panel-login.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const OWNER = 960001;
const CSRF = { 'x-requested-with': 'coach-panel' };
let system: TestSystem;

test.before(async () => {
  system = await startTestSystem({
    worker: false,
    // Each test logs in from its own address (X-Forwarded-For), so the per-IP login limit is each test's own.
    env: { TELEGRAM_ADMINS: String(OWNER), TRUST_PROXY: '1' },
  });
  await seedUsers(system.em(), [960002, 960020], { role: 'trainer' });
  await seedUsers(system.em(), [960030], { role: 'support' });
  await seedUsers(system.em(), [960003, 960040, 960050, 960060], { role: 'support' });
  await seedUsers(system.em(), [960004]);
});
test.after.always(async () => {
  await system?.stop();
});

const { login, loggedIn, newAddress } = panelLogin(() => system);

const sessionRows = (...telegramIds: number[]) =>
  system.em().count(PanelSession, { telegramId: { $in: telegramIds.map(String) } });

test('a signed widget login sets an HttpOnly, SameSite=Strict cookie for /api/panel, and the session has its role', async (t) => {
  const before = new Date();
  const result = await login(loginWidgetFor(960020, { fields: { first_name: 'Tanya', last_name: 'Coach' } }));
  t.is(result.status, 200, JSON.stringify(result.body));
  t.like(result.body, {
    user: { telegramId: '960020', firstName: 'Tanya', lastName: 'Coach', username: 'admin_960020' },
    role: 'trainer',
    permissions: ['view_applications', 'manage_clients'],
  });
  const expiresAt = new Date(result.body.expiresAt!).getTime();
  t.true(Math.abs(expiresAt - (before.getTime() + 43_200_000)) < 60_000);

  t.is(result.setCookie.length, 1);
  const attributes = result.setCookie[0]!.split('; ');
  t.regex(attributes[0]!, /^coach_panel_session=[A-Za-z0-9_-]{43}$/);
  t.deepEqual(attributes.slice(1).sort(), [
    'HttpOnly',
    'Max-Age=43200',
    'Path=/api/panel',
    'SameSite=Strict',
  ]);

  // Only the token's SHA-256 is stored.
  const row = await system.em().findOneOrFail(PanelSession, { telegramId: '960020' });
  t.is(row.tokenHash, createHash('sha256').update(result.token!).digest('hex'));
  t.is(row.userAgent, 'ava-browser/1.0');
  const user = await system.em().findOneOrFail(TelegramUser, { telegramId: '960020' });
  t.like(user, { firstName: 'Tanya', lastName: 'Coach', username: 'admin_960020', role: 'trainer' });

  const me = await system.request('/api/panel/session', withCookie(result.cookie!));
  t.is(me.status, 200);
  t.like(await me.json(), { via: 'session', role: 'trainer', expiresAt: result.body.expiresAt });
  t.is((await system.request('/api/panel/applications', withCookie(result.cookie!))).status, 200);
  t.is((await system.request('/api/panel/clients', withCookie(result.cookie!))).status, 200);
  const admins = await system.request('/api/panel/admins', withCookie(result.cookie!));
  t.is(admins.status, 403);
  t.is((await admins.json()).error.code, 'permission_denied');

  const viaInitData = await system.request('/api/panel/session', { auth: authHeader({ id: 960020 }) });
  t.like(await viaInitData.json(), { via: 'initData', role: 'trainer' });
});

test('redirect-mode strings, unknown signed fields and TELEGRAM_ADMINS owners without a row are accepted', async (t) => {
  const asStrings = signLoginWidget(TEST_BOT_TOKEN, {
    id: String(OWNER),
    first_name: 'Olga',
    auth_date: String(Math.floor(Date.now() / 1000)),
    some_future_field: 'kept in the check',
  });
  t.is(await system.em().count(TelegramUser, { telegramId: String(OWNER) }), 1, 'stored at web start');
  const result = await login(asStrings);
  t.is(result.status, 200, JSON.stringify(result.body));
  t.like(result.body, { user: { telegramId: String(OWNER), firstName: 'Olga' }, role: 'owner' });
  t.is(result.body.permissions?.length, 4);
  // Behind the trusted proxy an https request gets a Secure cookie.
  const secure = await login(loginWidgetFor(OWNER), { headers: { 'x-forwarded-proto': 'https' } });
  t.true(secure.setCookie[0]!.split('; ').includes('Secure'));
});

test('forged, altered, stale or future data and non-admins get no cookie and no row', async (t) => {
  const rowsBefore = await sessionRows(960030, 960004, 960099);
  const now = Math.floor(Date.now() / 1000);
  const altered = { ...loginWidgetFor(960030), first_name: 'Mallory' };
  const cases: [string, unknown, number, string][] = [
    ['another bot', loginWidgetFor(960030, { token: '1:forged-token-forged-token-x' }), 401, 'invalid_login'],
    ['a changed field', altered, 401, 'invalid_login'],
    ['an added field', { ...loginWidgetFor(960030), last_name: 'Extra' }, 401, 'invalid_login'],
    ['a dropped field', (({ username: _, ...rest }) => rest)(loginWidgetFor(960030)), 401, 'invalid_login'],
    ['another id', { ...loginWidgetFor(960030), id: OWNER }, 401, 'invalid_login'],
    ['stale', loginWidgetFor(960030, { authDate: now - 3601 }), 401, 'login_expired'],
    ['future', loginWidgetFor(960030, { authDate: now + 3600 }), 401, 'invalid_login'],
    ['no role', loginWidgetFor(960004), 403, 'not_an_admin'],
    ['never seen', loginWidgetFor(960099), 403, 'not_an_admin'],
    ['no hash', (({ hash: _, ...rest }) => rest)(loginWidgetFor(960030)), 400, 'validation_failed'],
    ['a nested field', { ...loginWidgetFor(960030), extra: { a: 1 } }, 400, 'validation_failed'],
    [
      'too many fields',
      loginWidgetFor(960030, {
        fields: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, 'x'])),
      }),
      400,
      'validation_failed',
    ],
    [
      'a long field',
      loginWidgetFor(960030, { fields: { note: 'x'.repeat(3000) } }),
      400,
      'validation_failed',
    ],
    ['not an object', [1, 2], 400, 'validation_failed'],
  ];
  for (const [what, fields, status, code] of cases) {
    const result = await login(fields);
    t.is(result.status, status, `${what}: ${JSON.stringify(result.body)}`);
    t.is(result.body.error?.code, code, what);
    t.deepEqual(result.setCookie, [], `${what}: no cookie`);
  }
  // A signed `__proto__` (an own key after JSON.parse) is refused, not silently dropped from the check.
  const proto = `{"__proto__":"x",${JSON.stringify(loginWidgetFor(960030)).slice(1)}`;
  const response = await system.request('/api/panel/session', {
    method: 'POST',
    headers: { 'x-forwarded-for': newAddress() },
    body: proto,
  });
  t.is(response.status, 400);

  t.is(await sessionRows(960030, 960004, 960099), rowsBefore, 'no session row');
  t.is(await system.em().count(TelegramUser, { telegramId: '960099' }), 0, 'no user row for the unknown id');
  t.is((await system.em().findOneOrFail(TelegramUser, { telegramId: '960030' })).firstName, 'User 960030');
  const hashes = cases.map(([, fields]) => (fields as { hash?: string }).hash).filter(Boolean) as string[];
  t.false(
    system.logs.some((line) => hashes.some((hash) => line.includes(hash))),
    'hashes are never logged',
  );
  const failed = system.logs.filter((line) => line.includes('"via":"login_widget"'));
  t.true(failed.some((line) => line.includes('"reason":"bad_hash"')));
  t.true(failed.some((line) => line.includes('"reason":"expired"')));
  const badHash = (await system.metrics.telegramAuthErrors.get()).values.find(
    (value) => value.labels.reason === 'bad_hash',
  );
  t.true((badHash?.value ?? 0) >= 5);
});

test('logout deletes the session and clears the cookie; the old cookie is 401 afterwards', async (t) => {
  const cookie = await loggedIn(960040);
  t.is((await system.request('/api/panel/session', withCookie(cookie))).status, 200);
  const rows = await sessionRows(960040);
  const logout = await system.request(
    '/api/panel/session',
    withCookie(cookie, { method: 'DELETE', headers: CSRF }),
  );
  t.is(logout.status, 204);
  t.deepEqual(logout.headers.getSetCookie(), [
    'coach_panel_session=; Max-Age=0; Path=/api/panel; HttpOnly; SameSite=Strict',
  ]);
  t.is(await sessionRows(960040), rows - 1);
  const after = await system.request('/api/panel/session', withCookie(cookie));
  t.is(after.status, 401);
  t.is((await after.json()).error.code, 'invalid_session');
  // Logging out again, with no cookie, or with initData only: nothing to do.
  t.is(
    (await system.request('/api/panel/session', withCookie(cookie, { method: 'DELETE', headers: CSRF })))
      .status,
    204,
  );
  t.is((await system.request('/api/panel/session', { method: 'DELETE' })).status, 204);
  const initData = await system.request('/api/panel/session', {
    method: 'DELETE',
    auth: authHeader({ id: 960040 }),
  });
  t.is(initData.status, 204);
  t.deepEqual(initData.headers.getSetCookie(), []);
});

test('a cookie write without X-Requested-With, or from another Origin, is 403 csrf_check_failed and changes nothing', async (t) => {
  const cookie = await loggedIn(960002);
  const put = (headers: Record<string, string>) =>
    system.request(
      '/api/panel/me/preferences',
      withCookie(cookie, { method: 'PUT', headers, body: JSON.stringify({ notifyNewApplications: false }) }),
    );
  const refused: Record<string, string>[] = [
    {},
    { 'x-requested-with': 'XMLHttpRequest' },
    { ...CSRF, origin: 'https://evil.example' },
    { ...CSRF, origin: 'null' },
    { ...CSRF, origin: `${system.baseUrl.replace('127.0.0.1', 'localhost')}` },
  ];
  for (const headers of refused) {
    const response = await put(headers);
    t.is(response.status, 403, JSON.stringify(headers));
    t.is((await response.json()).error.code, 'csrf_check_failed');
  }
  const user = () => system.em().findOneOrFail(TelegramUser, { telegramId: '960002' });
  t.true((await user()).notifyNewApplications, 'nothing changed');
  const broadcast = { text: 'Cross-site hello', segment: 'clients' };
  for (const headers of refused) {
    const post = await system.request(
      '/api/panel/broadcasts',
      withCookie(cookie, { method: 'POST', headers, body: JSON.stringify(broadcast) }),
    );
    t.is(post.status, 403, `POST ${JSON.stringify(headers)}`);
  }
  t.is(await system.em().count(Broadcast, {}), 0, 'no broadcast was created');
  // Logout is a write too.
  t.is((await system.request('/api/panel/session', withCookie(cookie, { method: 'DELETE' }))).status, 403);
  t.is((await system.request('/api/panel/session', withCookie(cookie))).status, 200, 'still logged in');

  t.is((await put(CSRF)).status, 200);
  t.is((await put({ ...CSRF, origin: system.baseUrl })).status, 200);
  t.false((await user()).notifyNewApplications);
  // A login from another site's page is refused too (the body is its credential, the Origin its source).
  const foreign = await login(loginWidgetFor(960002), { headers: { origin: 'https://evil.example' } });
  t.is(foreign.status, 403);
  t.deepEqual(foreign.setCookie, []);
});

test('a revoked role stops its session at once with 403', async (t) => {
  await seedUsers(system.em(), [960010], { role: 'support' });
  const cookie = await loggedIn(960010);
  t.is((await system.request('/api/panel/applications', withCookie(cookie))).status, 200);
  await system.em().nativeUpdate(TelegramUser, { telegramId: '960010' }, { role: null });
  const response = await system.request('/api/panel/applications', withCookie(cookie));
  t.is(response.status, 403);
  t.is((await response.json()).error.code, 'not_an_admin');
});

test('the cookie does not open Mini App routes, and initData wins over it', async (t) => {
  const cookie = await loggedIn(OWNER);
  for (const path of ['/api/me', '/api/plans/latest', '/api/subscription-plans']) {
    const response = await system.request(path, withCookie(cookie));
    t.is(response.status, 401, path);
    t.is((await response.json()).error.code, 'missing_credentials', path);
  }
  // Any Authorization header is the credential, even beside a good cookie.
  const bad = await system.request(
    '/api/panel/session',
    withCookie(cookie, { headers: { authorization: 'tma x=1' } }),
  );
  t.is(bad.status, 401);
  // Another letter case of the cookie's name is not our cookie.
  const token = cookie.split('=')[1]!;
  for (const name of [
    'Coach_Panel_Session',
    'COACH_PANEL_SESSION',
    'coach_panel_session_',
    ' coach-panel-session',
  ]) {
    t.is((await system.request('/api/panel/session', withCookie(`${name}=${token}`))).status, 401, name);
  }
  t.is((await system.request('/api/panel/session', withCookie(`other=1; ${cookie}`))).status, 200);
});

test('an expired or unknown session is 401 and the cookie is cleared', async (t) => {
  const cookie = await loggedIn(960050);
  const token = cookie.split('=')[1]!;
  await system
    .em()
    .nativeUpdate(
      PanelSession,
      { tokenHash: createHash('sha256').update(token).digest('hex') },
      { expiresAt: new Date(Date.now() - 1000) },
    );
  const expired = await system.request('/api/panel/session', withCookie(cookie));
  t.is(expired.status, 401);
  t.is((await expired.json()).error.code, 'session_expired');
  t.regex(expired.headers.getSetCookie()[0] ?? '', /^coach_panel_session=; Max-Age=0; Path=\/api\/panel/);
  // Expired rows stay a day (so the answer is "expired"); a login sweeps older ones.
  const em = system.em();
  em.create(PanelSession, {
    tokenHash: 'f'.repeat(64),
    tenantId: DEFAULT_TENANT_ID,
    telegramId: '960050',
    createdAt: new Date(Date.now() - 3 * 86_400_000),
    expiresAt: new Date(Date.now() - 2 * 86_400_000),
  });
  await em.flush();
  await loggedIn(960050);
  t.is(await system.em().count(PanelSession, { tokenHash: 'f'.repeat(64) }), 0);
  t.is(
    (await system.request('/api/panel/session', withCookie(cookie))).status,
    401,
    'the recent one is kept',
  );
  t.is(await sessionRows(960050), 2);
  const otherToken = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  for (const value of ['A'.repeat(43), 'short', '%00', `${token}x`, otherToken]) {
    const unknown = await system.request('/api/panel/session', withCookie(`coach_panel_session=${value}`));
    t.is(unknown.status, 401, value);
    t.is((await unknown.json()).error.code, 'invalid_session');
  }
});
