import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import type pino from 'pino';
import { WebSocket } from 'ws';
import { createLogger } from '../src/config/logger.ts';
import { PanelSession, TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import type { LiveEvent, LiveEventPublisher } from '../src/domain/live-events.ts';
import { normaliseIp } from '../src/http/bot-api-auth.ts';
import {
  clientIp,
  createPanelWebSocketServer,
  PANEL_WS_PATH,
  type PanelWebSocketDeps,
} from '../src/http/panel-websocket.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createWebProcess } from '../src/processes/web-process.ts';
import { authHeader, initDataFor, validAnswers } from './helpers/init-data.ts';
import { loginWidgetFor } from './helpers/login-widget.ts';
import { seedUsers } from './helpers/seed.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const OWNER = 950001;
const silent = createLogger('silent');
let system: TestSystem;
let webB: { baseUrl: string; liveEvents: LiveEventPublisher };

test.before(async () => {
  system = await startTestSystem({
    env: { TELEGRAM_ADMINS: String(OWNER), TELEGRAM_MESSAGES_PER_SECOND: '200' },
    telegramLimits: { globalPerSecond: 1000 },
  });
  const second = await system.startWebProcess();
  webB = { baseUrl: second.baseUrl, liveEvents: second.web.liveEvents };
});
test.after.always(async () => {
  await system?.stop();
});

interface Panel {
  ws: WebSocket;
  events: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves with the first event (already received or future) that matches. */
  next(
    match: (event: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

function open(baseUrl: string, first?: string | Buffer, options?: WebSocket.ClientOptions): Panel {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}${PANEL_WS_PATH}`, options);
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    events.push(JSON.parse(data.toString()));
    for (const wake of waiters) wake();
  });
  if (first !== undefined) ws.on('open', () => ws.send(first));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return {
    ws,
    events,
    closed,
    next(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event; got ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

const auth = (id: number) => JSON.stringify({ type: 'auth', initData: initDataFor({ id }) });

async function connectAdmin(baseUrl: string, id = OWNER): Promise<Panel> {
  const panel = open(baseUrl, auth(id));
  await panel.next((event) => event.type === 'ready');
  return panel;
}

test('bad first messages and forged credentials close with 4401', async (t) => {
  const firsts = [
    'not json',
    JSON.stringify({ type: 'hello' }),
    JSON.stringify({ type: 'auth' }),
    JSON.stringify({ type: 'auth', initData: 42 }),
    JSON.stringify({
      type: 'auth',
      initData: initDataFor({ id: OWNER }, { token: '1:forged-token-forged-token-x' }),
    }),
    JSON.stringify({ type: 'auth', initData: initDataFor({ id: OWNER }, { authDate: 1_000_000 }) }),
    // An id past 2^63-1 is refused like forged data, never an internal error.
    JSON.stringify({ type: 'auth', initData: initDataFor({ id: '9223372036854775808' }) }),
    Buffer.from(auth(OWNER)),
  ];
  const authErrors = async (reason: string) =>
    (await system.metrics.telegramAuthErrors.get()).values.find((v) => v.labels.reason === reason)?.value ??
    0;
  const before = { badHash: await authErrors('bad_hash'), expired: await authErrors('expired') };
  const results = await Promise.all(firsts.map((first) => open(system.baseUrl, first).closed));
  for (const [index, result] of results.entries()) t.is(result.code, 4401, `message ${index}`);
  // Socket logins count in the same metrics as REST, so the auth-errors alert sees them.
  t.is((await authErrors('bad_hash')) - before.badHash, 1);
  t.is((await authErrors('expired')) - before.expired, 1);
  t.false(
    system.logs.some((line) => line.includes('query_id=')),
    'initData is never logged',
  );
});

test('a user without an admin role is closed with 4403; support and owners get ready', async (t) => {
  t.like(await open(system.baseUrl, auth(950002)).closed, { code: 4403, reason: 'not_an_admin' });
  await seedUsers(system.em(), [950003], { role: 'support' });
  const support = await connectAdmin(webB.baseUrl, 950003);
  const owner = await connectAdmin(system.baseUrl);
  owner.ws.send(JSON.stringify({ type: 'ping' }));
  await owner.next((event) => event.type === 'pong');
  t.deepEqual(owner.events[0], { type: 'ready' });
  support.ws.close();
  owner.ws.close();
});

test('a connection that does not authenticate in time is closed with 4401', async (t) => {
  const panelSocket = createPanelWebSocketServer({
    config: system.config,
    orm: system.orm,
    tenants: system.tenantDirectory,
    redisTarget: TEST_REDIS_URL,
    logger: silent,
    metrics: createMetrics(),
    authTimeoutMs: 200,
  });
  const server = createServer().on('upgrade', (req, socket, head) =>
    panelSocket.handleUpgrade(req, socket, head),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started = Date.now();
  const result = await open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`).closed;
  t.like(result, { code: 4401, reason: 'auth_timeout' });
  // Closed by the 200 ms auth timer, not by anything slower (the bound is loose for loaded machines).
  t.true(Date.now() - started < 10_000);
  await panelSocket.close();
  await new Promise((resolve) => server.close(resolve));
});

test('a frame over 16 KiB closes the socket with 1009, before and after auth', async (t) => {
  const limit = 16 * 1024;
  // At the limit the frame is read (and refused as auth); one byte more is never read at all.
  t.like(await open(system.baseUrl, 'x'.repeat(limit)).closed, { code: 4401 });
  t.like(await open(system.baseUrl, 'x'.repeat(limit + 1)).closed, { code: 1009 });
  const panel = await connectAdmin(system.baseUrl);
  panel.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(limit - 40) }));
  await panel.next((event) => event.type === 'pong');
  panel.ws.send('x'.repeat(limit + 1));
  t.like(await panel.closed, { code: 1009 });
});

test('other upgrade paths are refused', async (t) => {
  const ws = new WebSocket(`${system.baseUrl.replace('http', 'ws')}/api/other`);
  const status = await new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
    ws.on('error', () => resolve('error'));
  });
  t.is(status, 404);
});

test.serial('events reach panels on both web processes: survey on A, plan from the worker', async (t) => {
  const [onA, onB] = await Promise.all([connectAdmin(system.baseUrl), connectAdmin(webB.baseUrl)]);
  const response = await system.request('/api/surveys', {
    method: 'POST',
    auth: authHeader({ id: 950010 }),
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(response.status, 202);
  const body = await response.json();

  for (const panel of [onA, onB]) {
    const created = await panel.next((event) => event.type === 'application.created');
    t.like(created, { applicationId: body.applicationId, telegramId: '950010' });
    t.regex(String(created.createdAt), /^\d{4}-\d\d-\d\dT/);
    const ready = await panel.next((event) => event.type === 'plan.status' && event.status === 'ready');
    t.is(ready.planId, body.plan.id);
    const statuses = panel.events
      .filter((event) => event.planId === body.plan.id)
      .map((event) => event.status);
    t.deepEqual(statuses, ['generating', 'ready']);
  }
  onA.ws.close();
  onB.ws.close();
});

test.serial('client events published anywhere reach every instance, and only their own tenant', async (t) => {
  const [onA, onB] = await Promise.all([connectAdmin(system.baseUrl), connectAdmin(webB.baseUrl)]);
  const otherTenant = '00000000-0000-4000-8000-000000000099';
  const added: LiveEvent = { type: 'client.added', userId: 'u-1', telegramId: '950020' };
  const removed: LiveEvent = { type: 'client.removed', userId: 'u-1', telegramId: '950020' };
  webB.liveEvents.publish(otherTenant, { ...added, telegramId: 'other-tenant' });
  webB.liveEvents.publish(DEFAULT_TENANT_ID, added);
  webB.liveEvents.publish(DEFAULT_TENANT_ID, removed);
  for (const panel of [onA, onB]) {
    t.deepEqual(await panel.next((event) => event.type === 'client.removed'), removed);
    // Pub/sub keeps order per publisher connection; the other tenant's event, sent first, never came.
    t.deepEqual(panel.events.slice(1), [added, removed]);
  }
  onA.ws.close();
  onB.ws.close();
});

test.serial('a broadcast reports its progress, ending with nothing pending', async (t) => {
  const panel = await connectAdmin(webB.baseUrl);
  await seedUsers(
    system.em(),
    Array.from({ length: 5 }, (_, i) => 951000 + i),
    { isClient: true },
  );
  const response = await system.request('/api/panel/broadcasts', {
    method: 'POST',
    auth: authHeader({ id: OWNER }),
    body: JSON.stringify({ text: 'Live progress check', segment: 'clients' }),
  });
  t.is(response.status, 202);
  const { id } = await response.json();
  const postedAt = Date.now();
  const last = await panel.next((event) => event.type === 'broadcast.progress' && event.pending === 0);
  const elapsedMs = Date.now() - postedAt;
  t.deepEqual(last, {
    type: 'broadcast.progress',
    broadcastId: id,
    total: 5,
    sent: 5,
    failed: 0,
    pending: 0,
  });
  // Let any late duplicate arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const progress = panel.events.filter((event) => event.type === 'broadcast.progress');
  // One final event, however many jobs finished together; before it, at most one per second.
  t.is(progress.filter((event) => event.pending === 0).length, 1);
  t.is(progress.at(-1)?.pending, 0);
  t.true(progress.length - 1 <= Math.ceil(elapsedMs / 1000) + 1, `${progress.length} events`);
  panel.ws.close();
});

test.serial('revoking an admin closes their open panels on every instance with 4403', async (t) => {
  await seedUsers(system.em(), [950004], { role: 'trainer' });
  const onA = await connectAdmin(system.baseUrl, 950004);
  const onB = await connectAdmin(webB.baseUrl, 950004);
  const owner = await connectAdmin(system.baseUrl);
  const revoke = await fetch(`${system.baseUrl}/api/panel/admins/950004`, {
    method: 'DELETE',
    headers: { authorization: `tma ${initDataFor({ id: OWNER })}` },
  });
  t.is(revoke.status, 204);
  t.like(await onA.closed, { code: 4403, reason: 'access_changed' });
  t.like(await onB.closed, { code: 4403, reason: 'access_changed' });
  // Reconnecting without a role is refused; the owner's own panel was not touched.
  t.like(await open(system.baseUrl, auth(950004)).closed, { code: 4403 });
  t.is(owner.ws.readyState, owner.ws.OPEN);
  t.false(
    owner.events.some((event) => event.type === 'access.changed'),
    'internal event not forwarded',
  );
  owner.ws.close();
});

test.serial('stopping a web process closes its panel sockets with 1001', async (t) => {
  const web = createWebProcess({
    config: system.config,
    orm: system.orm,
    logger: silent,
    metrics: createMetrics(),
    redisTarget: TEST_REDIS_URL,
  });
  await web.start();
  const panel = await connectAdmin(`http://127.0.0.1:${web.port()}`);
  t.is(web.panelSocket.connectionCount(), 1);
  await web.stop();
  t.like(await panel.closed, { code: 1001, reason: 'server_shutdown' });
});

/** A panel socket server of its own, for options the shared system does not set; logs kept in memory. */
async function ownPanelServer(
  t: { teardown(fn: () => unknown): void },
  options: Partial<PanelWebSocketDeps>,
) {
  const logs: string[] = [];
  const logger = createLogger('info', { write: (line: string) => logs.push(line) } as pino.DestinationStream);
  const panelSocket = createPanelWebSocketServer({
    config: system.config,
    orm: system.orm,
    tenants: system.tenantDirectory,
    redisTarget: TEST_REDIS_URL,
    logger,
    metrics: createMetrics(),
    ...options,
  });
  const server = createServer().on('upgrade', (req, socket, head) =>
    panelSocket.handleUpgrade(req, socket, head),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await panelSocket.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs };
}

/** Opens a socket without authenticating: 'open', or the status and Retry-After it was refused with. */
function connect(baseUrl: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${baseUrl.replace('http', 'ws')}${PANEL_WS_PATH}`, { headers });
  ws.on('error', () => {});
  const outcome = new Promise<'open' | { status?: number; retryAfter?: string }>((resolve) => {
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) =>
      resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }),
    );
  });
  return { ws, outcome };
}

test('unauthenticated sockets over the per-IP cap get 429 until a pending one authenticates', async (t) => {
  const { baseUrl, logs } = await ownPanelServer(t, { maxPendingPerIp: 2, authTimeoutMs: 60_000 });
  const first = open(baseUrl);
  const second = connect(baseUrl);
  await new Promise((resolve) => first.ws.once('open', resolve));
  t.is(await second.outcome, 'open');
  t.deepEqual(await connect(baseUrl).outcome, { status: 429, retryAfter: '60' });
  const capped = logs.map((line) => JSON.parse(line)).filter((line) => line.event === 'panel_ws_pending_cap');
  t.is(capped.length, 1);
  t.like(capped[0], { ip: '127.0.0.1' });

  // Authenticated sockets do not count: the slot is free once the first one is ready.
  first.ws.send(auth(OWNER));
  await first.next((event) => event.type === 'ready');
  t.is(await connect(baseUrl).outcome, 'open');
  t.like(await connect(baseUrl).outcome, { status: 429 });
  first.ws.close();
});

test('behind trusted proxies the cap counts the address the last proxy saw, not what the client wrote', async (t) => {
  const config = { ...system.config, http: { ...system.config.http, trustedProxyHops: 1 } };
  const { baseUrl, logs } = await ownPanelServer(t, { config, maxPendingPerIp: 1 });
  t.is(await connect(baseUrl, { 'x-forwarded-for': '203.0.113.7' }).outcome, 'open');
  // A spoofed entry on the left does not make a new address; another real one does.
  const spoofed = await connect(baseUrl, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' }).outcome;
  t.like(spoofed, { status: 429 });
  t.is(await connect(baseUrl, { 'x-forwarded-for': '203.0.113.8' }).outcome, 'open');
  t.true(
    logs.some((line) => line.includes('"event":"panel_ws_pending_cap"') && line.includes('203.0.113.7')),
  );
});

test('clientIp picks the same address as Koa with proxy and maxIpsCount', (t) => {
  const cases: [number, string | undefined][] = [
    [0, '198.51.100.1'],
    [1, undefined],
    [1, '198.51.100.1'],
    [1, '198.51.100.1, 203.0.113.7'],
    [2, '198.51.100.1, 203.0.113.7, 10.0.0.2'],
    [2, '203.0.113.7'],
    [3, ' ::ffff:203.0.113.9 ,10.0.0.1'],
    [1, ''],
  ];
  for (const [hops, header] of cases) {
    const req = {
      headers: header === undefined ? {} : { 'x-forwarded-for': header },
      socket: { remoteAddress: '::ffff:127.0.0.1' },
    } as unknown as IncomingMessage;
    const koa = new Koa({ proxy: hops > 0, maxIpsCount: hops }).createContext(req, {} as never);
    t.is(clientIp(req, hops), normaliseIp(koa.ip), `${hops} hops, ${header}`);
  }
  t.is(clientIp({ headers: {}, socket: { remoteAddress: '::ffff:10.1.2.3' } } as never, 0), '10.1.2.3');
});

// ---- browser panels: the session cookie instead of initData --------------------------------------

const sessionAuth = JSON.stringify({ type: 'auth', session: true });

/** Logs in through the Login Widget endpoint; the `coach_panel_session=<token>` pair for a Cookie header. */
async function sessionCookie(id: number): Promise<string> {
  const response = await system.request('/api/panel/session', {
    method: 'POST',
    body: JSON.stringify(loginWidgetFor(id)),
  });
  const cookie = /^coach_panel_session=[^;]+/.exec(response.headers.getSetCookie()[0] ?? '')?.[0];
  if (response.status !== 200 || !cookie) throw new Error(`login answered ${response.status}`);
  return cookie;
}

const tokenHash = (cookie: string) => createHash('sha256').update(cookie.split('=')[1]!).digest('hex');

test('a browser panel authenticates with its session cookie, and logging out anywhere closes it', async (t) => {
  await seedUsers(system.em(), [950020], { role: 'support' });
  const cookie = await sessionCookie(950020);
  const panel = open(system.baseUrl, sessionAuth, { headers: { cookie }, origin: system.baseUrl });
  await panel.next((event) => event.type === 'ready');
  panel.ws.send(JSON.stringify({ type: 'ping' }));
  await panel.next((event) => event.type === 'pong');
  // A client that sends no Origin (not a browser) is not a cross-site page.
  const noOrigin = open(system.baseUrl, sessionAuth, { headers: { cookie } });
  await noOrigin.next((event) => event.type === 'ready');
  const other = await connectAdmin(system.baseUrl);

  const logout = await fetch(`${webB.baseUrl}/api/panel/session`, {
    method: 'DELETE',
    headers: { cookie, 'x-requested-with': 'coach-panel' },
  });
  t.is(logout.status, 204);
  t.like(await panel.closed, { code: 4401, reason: 'session_ended' });
  t.like(await noOrigin.closed, { code: 4401, reason: 'session_ended' });
  t.is(other.ws.readyState, other.ws.OPEN, 'initData panels are not touched');
  t.false(
    other.events.some((event) => event.type === 'session.ended'),
    'internal event not forwarded',
  );
  other.ws.close();
  // The ended session cannot open a new socket.
  t.like(await open(system.baseUrl, sessionAuth, { headers: { cookie } }).closed, {
    code: 4401,
    reason: 'invalid_session',
  });
});

test('session auth is refused from another Origin, without a good cookie, with a revoked role or expired', async (t) => {
  await seedUsers(system.em(), [950021, 950022, 950023], { role: 'trainer' });
  const [cookie, revoked, expired] = await Promise.all([950021, 950022, 950023].map(sessionCookie));
  await system.em().nativeUpdate(TelegramUser, { telegramId: '950022' }, { role: null });
  await system
    .em()
    .nativeUpdate(
      PanelSession,
      { tokenHash: tokenHash(expired!) },
      { expiresAt: new Date(Date.now() - 1000) },
    );

  const cases: [string, Panel, number, string][] = [
    [
      'foreign origin',
      open(system.baseUrl, sessionAuth, { headers: { cookie: cookie! }, origin: 'https://evil.example' }),
      4401,
      'foreign_origin',
    ],
    [
      'same host, another port',
      open(system.baseUrl, sessionAuth, { headers: { cookie: cookie! }, origin: 'http://127.0.0.1:1' }),
      4401,
      'foreign_origin',
    ],
    ['no cookie', open(system.baseUrl, sessionAuth, { origin: system.baseUrl }), 4401, 'missing_session'],
    [
      'junk cookie',
      open(system.baseUrl, sessionAuth, { headers: { cookie: 'coach_panel_session=junk' } }),
      4401,
      'invalid_session',
    ],
    [
      'the name in another case',
      open(system.baseUrl, sessionAuth, { headers: { cookie: cookie!.replace('coach', 'Coach') } }),
      4401,
      'missing_session',
    ],
    [
      'expired',
      open(system.baseUrl, sessionAuth, { headers: { cookie: expired! } }),
      4401,
      'session_expired',
    ],
    [
      'role revoked',
      open(system.baseUrl, sessionAuth, { headers: { cookie: revoked! } }),
      4403,
      'not_an_admin',
    ],
    [
      'session and initData at once',
      open(
        system.baseUrl,
        JSON.stringify({ type: 'auth', session: true, initData: initDataFor({ id: 950021 }) }),
        { headers: { cookie: cookie! } },
      ),
      4401,
      'invalid_auth_message',
    ],
    [
      'session not true',
      open(system.baseUrl, JSON.stringify({ type: 'auth', session: 'yes' }), {
        headers: { cookie: cookie! },
      }),
      4401,
      'invalid_auth_message',
    ],
  ];
  for (const [what, panel, code, reason] of cases) t.like(await panel.closed, { code, reason }, what);
});

test('a session socket closes when its session expires', async (t) => {
  await seedUsers(system.em(), [950024], { role: 'owner' });
  const cookie = await sessionCookie(950024);
  await system
    .em()
    .nativeUpdate(PanelSession, { tokenHash: tokenHash(cookie) }, { expiresAt: new Date(Date.now() + 1500) });
  const panel = open(system.baseUrl, sessionAuth, { headers: { cookie } });
  await panel.next((event) => event.type === 'ready');
  t.like(await panel.closed, { code: 4401, reason: 'session_expired' });
});
