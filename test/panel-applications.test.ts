import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { ApplicationStatus } from '../src/db/entities/application.entity.ts';
import {
  Application,
  AuditLog,
  Notification,
  Outbox,
  PersonalPlan,
  Survey,
  TelegramUser,
} from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const OWNER = 700001;
const owner = authHeader({ id: OWNER });
let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ worker: false, env: { TELEGRAM_ADMINS: String(OWNER) } });
});
test.after.always(async () => {
  await system?.stop();
});

let nextTelegramId = 710000;
/**
 * Applications with explicit, partly equal created_at values (every `tie` rows share one), so the
 * id tie-breaker of the cursor is exercised too. Returns ids in expected newest-first order.
 */
async function seedApplications(
  count: number,
  options: { startMs?: number; status?: (i: number) => ApplicationStatus; tie?: number } = {},
): Promise<string[]> {
  const em = system.em();
  const users = await seedUsers(
    em,
    Array.from({ length: count }, () => nextTelegramId++),
  );
  const start = options.startMs ?? Date.now() - 3_600_000;
  const rows = users.map((user, i) => {
    const createdAt = new Date(start - Math.floor(i / (options.tie ?? 3)) * 1000);
    const survey = em.create(Survey, {
      id: randomUUID(),
      tenantId: DEFAULT_TENANT_ID,
      userId: user.id,
      answers: { ...validAnswers, equipment: [...validAnswers.equipment] },
      createdAt,
    });
    em.create(PersonalPlan, {
      id: randomUUID(),
      tenantId: DEFAULT_TENANT_ID,
      userId: user.id,
      surveyId: survey.id,
      status: 'queued',
      createdAt,
      updatedAt: createdAt,
    });
    return em.create(Application, {
      id: randomUUID(),
      tenantId: DEFAULT_TENANT_ID,
      userId: user.id,
      surveyId: survey.id,
      status: options.status?.(i) ?? 'new',
      createdAt,
    });
  });
  await em.flush();
  return rows
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (b.id < a.id ? -1 : 1))
    .map((row) => row.id);
}

interface ApplicationItem {
  id: string;
  status: string;
  decidedAt: string | null;
  user: { telegramId: string; lastName: string | null; username: string | null };
}
interface PageResponse {
  status: number;
  body: { items: ApplicationItem[]; nextCursor: string | null; error: { code: string } };
}

async function getPage(query: string, auth = owner): Promise<PageResponse> {
  const response = await system.request(`/api/panel/applications${query}`, { auth });
  return { status: response.status, body: await response.json() };
}

async function pageThrough(query: string, between?: () => Promise<unknown>) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const [page]: [PageResponse, unknown] = await Promise.all([
      getPage(`${query}${cursor ? `&cursor=${cursor}` : ''}`),
      between?.(),
    ]);
    if (page.status !== 200) throw new Error(JSON.stringify(page.body));
    ids.push(...page.body.items.map((item) => item.id));
    cursor = page.body.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  return { ids, pages };
}

test.serial('newest first, keyset pages, status filter and item shape', async (t) => {
  const expected = await seedApplications(25, {
    status: (i) => (i % 5 === 0 ? 'rejected' : 'new'),
  });
  const statuses = new Map(
    (await system.em().find(Application, { id: { $in: expected } })).map((row) => [row.id, row.status]),
  );
  const { ids, pages } = await pageThrough('?limit=10');
  t.deepEqual(ids, expected);
  t.is(pages, 3);

  const first = await getPage('?limit=2');
  t.is(first.body.items.length, 2);
  t.like(first.body.items[0], {
    id: expected[0],
    status: statuses.get(expected[0]!),
    decidedAt: null,
    survey: { goal: 'build_muscle', experience: 'beginner', daysPerWeek: 3 },
    plan: { status: 'queued' },
  });
  t.regex(first.body.items[0]!.user.telegramId, /^71\d{4}$/);
  t.like(first.body.items[0]!.user, { lastName: null, username: null });
  t.is(typeof first.body.nextCursor, 'string');

  const rejected = await pageThrough('?status=rejected&limit=2');
  t.deepEqual(
    rejected.ids,
    expected.filter((id) => statuses.get(id) === 'rejected'),
  );
  t.is(rejected.ids.length, 5);
  const last = await getPage('?limit=100');
  t.is(last.body.nextCursor, null);
  t.is(last.body.items.length, 25);
});

test.serial('bad cursor, limit or status → 400, never 500', async (t) => {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  for (const cursor of [
    'abc',
    '!!!',
    Buffer.from('not json').toString('base64url'),
    b64({ createdAt: '2026-01-01T00:00:00.000Z' }),
    b64(['2026-01-01T00:00:00.000Z']),
    b64(['yesterday', randomUUID()]),
    b64(['2026-13-45T00:00:00.000Z', randomUUID()]),
    b64(['2026-01-01T00:00:00.000Z', 'not-a-uuid']),
    b64(['2026-01-01T00:00:00.000Z', randomUUID(), 'extra']),
    'x'.repeat(500),
    // Dates JavaScript parses but no row can have (year 0000 was a 500 from PostgreSQL).
    b64(['0000-01-01T00:00:00.000Z', randomUUID()]),
    b64(['0000-01-01T00:00:00Z', randomUUID()]),
    b64(['2024-02-30T00:00:00.000Z', randomUUID()]),
    b64(['1969-12-31T23:59:59.999Z', randomUUID()]),
  ]) {
    for (const path of ['/api/panel/applications', '/api/panel/clients', '/api/panel/audit-log']) {
      const response = await system.request(`${path}?cursor=${encodeURIComponent(cursor)}`, { auth: owner });
      t.is(response.status, 400, `${path} ${cursor}`);
      t.is((await response.json()).error.code, 'invalid_cursor', cursor);
    }
  }
  for (const limit of ['0', '101', '-1', 'x', '1.5', '99999']) {
    const page = await getPage(`?limit=${limit}`);
    t.is(page.status, 400, limit);
    t.is(page.body.error.code, 'invalid_limit');
  }
  t.is((await getPage('?limit=1&limit=2')).status, 400);
  const status = await getPage('?status=pending');
  t.is(status.status, 400);
  t.is(status.body.error.code, 'invalid_status');
});

test.serial('no duplicates or gaps while new applications arrive during paging', async (t) => {
  const existing = await seedApplications(30, { startMs: Date.now() - 600_000, tie: 2 });
  let inserted = 0;
  const { ids, pages } = await pageThrough('?limit=7', async () => {
    // Arrive concurrently with the page request: newer than everything seen so far.
    await seedApplications(3, { startMs: Date.now() });
    inserted += 3;
  });
  t.true(inserted >= 12);
  t.true(pages >= 5);
  t.is(new Set(ids).size, ids.length, 'no duplicates');
  const seen = ids.filter((id) => existing.includes(id));
  t.deepEqual(
    seen,
    existing.filter((id) => seen.includes(id)),
    'order kept',
  );
  for (const id of existing) t.true(ids.includes(id), `no gap: ${id}`);
});

test.serial('accept makes the applicant a client, queues one notification and is audited', async (t) => {
  const [applicationId] = await seedApplications(1, { startMs: Date.now() - 1000 });
  const application = await system.em().findOneOrFail(Application, { id: applicationId! });
  const response = await system.request(`/api/panel/applications/${applicationId}/accept`, {
    method: 'POST',
    auth: owner,
  });
  t.is(response.status, 200);
  const body = await response.json();
  t.like(body, { id: applicationId, status: 'accepted', user: { isClient: true } });

  const em = system.em();
  const [user, ownerUser] = await Promise.all([
    em.findOneOrFail(TelegramUser, { id: application.userId }),
    em.findOneOrFail(TelegramUser, { telegramId: String(OWNER) }),
  ]);
  t.true(user.isClient);
  const stored = await em.findOneOrFail(Application, { id: applicationId! });
  t.is(stored.status, 'accepted');
  t.is(stored.decidedBy, ownerUser.id);
  t.truthy(stored.decidedAt);
  const notification = await em.findOneOrFail(Notification, {
    dedupeKey: `application_accepted:${applicationId}`,
  });
  t.is(notification.chatId, user.telegramId);
  t.regex(notification.text, /accepted/);
  t.is(
    await em.count(Outbox, {
      jobId: jobIdOf('notifications.send', { tenantId: DEFAULT_TENANT_ID, notificationId: notification.id }),
    }),
    1,
  );
  const audit = await em.findOneOrFail(AuditLog, { targetId: applicationId! });
  t.like(audit, { action: 'application.accept', actorId: ownerUser.id, targetType: 'application' });
  t.like(audit.details, { telegramId: user.telegramId });

  const me = await (await system.request('/api/me', { auth: authHeader({ id: user.telegramId }) })).json();
  t.true(me.isClient);

  for (const action of ['accept', 'reject']) {
    const again = await system.request(`/api/panel/applications/${applicationId}/${action}`, {
      method: 'POST',
      auth: owner,
    });
    t.is(again.status, 409);
    t.is((await again.json()).error.code, 'already_decided');
  }
  t.is(await em.count(Notification, { dedupeKey: `application_accepted:${applicationId}` }), 1);
  t.is(await em.count(AuditLog, { targetId: applicationId! }), 1);
});

test.serial('two coaches accepting at once: one wins, one 409, one message', async (t) => {
  const [applicationId] = await seedApplications(1);
  const responses = await Promise.all(
    [1, 2, 3].map(() =>
      system.request(`/api/panel/applications/${applicationId}/accept`, { method: 'POST', auth: owner }),
    ),
  );
  t.deepEqual(responses.map((r) => r.status).sort(), [200, 409, 409]);
  t.is(await system.em().count(Notification, { dedupeKey: `application_accepted:${applicationId}` }), 1);
  t.is(await system.em().count(AuditLog, { targetId: applicationId! }), 1);
});

test.serial('reject records the decision and notifies nobody', async (t) => {
  const [applicationId] = await seedApplications(1);
  const response = await system.request(`/api/panel/applications/${applicationId}/reject`, {
    method: 'POST',
    auth: owner,
  });
  t.is(response.status, 200);
  t.like(await response.json(), { status: 'rejected', user: { isClient: false } });
  const em = system.em();
  const stored = await em.findOneOrFail(Application, { id: applicationId! });
  t.is(stored.status, 'rejected');
  t.truthy(stored.decidedBy);
  t.is((await em.findOneOrFail(AuditLog, { targetId: applicationId! })).action, 'application.reject');
  t.is(await em.count(Notification, { dedupeKey: `application_accepted:${applicationId}` }), 0);
  const listed = await getPage('?status=rejected&limit=100');
  t.truthy(listed.body.items.find((item) => item.id === applicationId)?.decidedAt);
});

test.serial('unknown or malformed application id', async (t) => {
  const unknown = await system.request(`/api/panel/applications/${randomUUID()}/accept`, {
    method: 'POST',
    auth: owner,
  });
  t.is(unknown.status, 404);
  t.is((await unknown.json()).error.code, 'application_not_found');
  const bad = await system.request('/api/panel/applications/42/reject', { method: 'POST', auth: owner });
  t.is(bad.status, 400);
});

test.serial('a failing accept leaves no audit record, no client and no notification', async (t) => {
  const [applicationId] = await seedApplications(1);
  const application = await system.em().findOneOrFail(Application, { id: applicationId! });
  const connection = system.em().getConnection();
  // Fails at commit, after every statement of the accept (audit insert included) has run.
  await connection.execute(`create function fail_commit() returns trigger language plpgsql as $$
    begin raise exception 'forced failure at commit'; end $$`);
  await connection.execute(`create constraint trigger fail_accept after update on application
    deferrable initially deferred for each row when (new.id = '${applicationId}') execute function fail_commit()`);
  t.teardown(() =>
    connection.execute(
      'drop trigger if exists fail_accept on application; drop function if exists fail_commit()',
    ),
  );
  const response = await system.request(`/api/panel/applications/${applicationId}/accept`, {
    method: 'POST',
    auth: owner,
  });
  t.is(response.status, 500);
  const em = system.em();
  t.is(await em.count(AuditLog, { targetId: applicationId! }), 0);
  t.is((await em.findOneOrFail(Application, { id: applicationId! })).status, 'new');
  t.false((await em.findOneOrFail(TelegramUser, { id: application.userId })).isClient);
  t.is(await em.count(Notification, { dedupeKey: `application_accepted:${applicationId}` }), 0);
});
