import test from 'ava';
import { AuditLog, Notification } from '../src/db/entities/index.ts';
import { authHeader } from './helpers/init-data.ts';
import { seedApplicant, seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

const OWNER = 900001;
let system: TestSystem;
test.before(async () => {
  // No per-chat limits matter here (one message per chat); the global limit is raised to keep the file fast.
  system = await startTestSystem({
    env: { TELEGRAM_ADMINS: String(OWNER), TELEGRAM_MESSAGES_PER_SECOND: '200' },
    telegramLimits: { globalPerSecond: 1000 },
  });
});
test.after.always(async () => {
  await system?.stop();
});

const owner = authHeader({ id: OWNER });
const post = (auth: string, body: unknown) =>
  system.request('/api/panel/broadcasts', { method: 'POST', auth, body: JSON.stringify(body) });

test.serial('only admins with manage_clients may broadcast', async (t) => {
  const stranger = await post(authHeader({ id: 900002 }), { text: 'hi', segment: 'all' });
  t.is(stranger.status, 403);
  t.is((await stranger.json()).error.code, 'not_an_admin');
  await seedUsers(system.em(), [900003], { role: 'support' });
  const support = await post(authHeader({ id: 900003 }), { text: 'hi', segment: 'all' });
  t.is(support.status, 403);
  t.is((await support.json()).error.code, 'permission_denied');
  t.is((await post('', { text: 'hi', segment: 'all' })).status, 401);
});

test.serial('bad broadcast bodies are 400 and create nothing', async (t) => {
  for (const body of [
    {},
    { text: '', segment: 'all' },
    { text: '   ', segment: 'clients' },
    { text: 'x', segment: 'vip' },
    { text: 'x'.repeat(16_385), segment: 'all' },
    { text: 'x', segment: 'all', extra: 1 },
  ]) {
    const response = await post(owner, body);
    t.is(response.status, 400, JSON.stringify(body).slice(0, 60));
  }
  t.is(await system.em().count(AuditLog, {}), 0);
});

test.serial(
  'a broadcast to clients reaches every reachable client once, with progress and an audit record',
  async (t) => {
    const clients = await seedUsers(
      system.em(),
      Array.from({ length: 40 }, (_, i) => 910000 + i),
      { isClient: true },
    );
    await seedUsers(system.em(), [920001], { isClient: true, unreachableAt: new Date() });
    const applicants = await seedUsers(system.em(), [930001, 930002]);
    for (const applicant of applicants) await seedApplicant(system.em(), applicant);
    system.telegram.blockChat(String(clients[0]!.telegramId));

    const response = await post(owner, { text: 'New gym hours from Monday!', segment: 'clients' });
    t.is(response.status, 202);
    const { id } = await response.json();

    const progress = await waitFor(
      'broadcast completed',
      async () => {
        const body = await (await system.request(`/api/panel/broadcasts/${id}`, { auth: owner })).json();
        return body.status === 'completed' ? body : null;
      },
      20_000,
    );
    t.like(progress, { id, total: 40, sent: 39, failed: 1, pending: 0, segment: 'clients' });
    const delivered = system.telegram.sentMessages.filter((m) => m.text === 'New gym hours from Monday!');
    t.is(delivered.length, 39);
    t.is(new Set(delivered.map((m) => m.chatId)).size, 39, 'one message per client');
    t.false(
      delivered.some((m) => m.chatId === '920001' || m.chatId.startsWith('93000')),
      'unreachable users and applicants excluded',
    );

    const audit = await system.em().findOneOrFail(AuditLog, { targetId: id });
    t.is(audit.action, 'broadcast.create');
    t.deepEqual(audit.details, { segment: 'clients', length: 26 });
  },
);

test.serial('segments: applicants only, and a long text is split into several messages', async (t) => {
  const text = `${'Week plan update. '.repeat(300)}`.trim();
  const { id } = await (await post(owner, { text, segment: 'applicants' })).json();
  const progress = await waitFor(
    'done',
    async () => {
      const body = await (await system.request(`/api/panel/broadcasts/${id}`, { auth: owner })).json();
      return body.status === 'completed' ? body : null;
    },
    20_000,
  );
  t.is(progress.total, 2);
  t.is(progress.sent, 2);
  const parts = system.telegram.sentMessages.filter((m) => m.chatId === '930001');
  t.is(parts.length, 2);
  t.true(parts.every((m) => m.text.length <= 4096));
  t.is(await system.em().count(Notification, { broadcastId: id }), 2);
});

test.serial('progress of an unknown or malformed broadcast id', async (t) => {
  t.is(
    (await system.request('/api/panel/broadcasts/00000000-0000-4000-8000-000000000000', { auth: owner }))
      .status,
    404,
  );
  t.is((await system.request('/api/panel/broadcasts/nope', { auth: owner })).status, 400);
});
