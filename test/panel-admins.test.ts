import test from 'ava';
import { AuditLog, TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { ensureConfiguredOwners, setAdminRole } from '../src/domain/admins.ts';
import { authHeader } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

// No TELEGRAM_ADMINS here: the only owners are database owners, so the last-owner rule bites.
const OWNER = 800001;
const owner = authHeader({ id: OWNER });
let system: TestSystem;
let ownerId: string;
test.before(async () => {
  system = await startTestSystem({ worker: false });
  [{ id: ownerId }] = (await seedUsers(system.em(), [OWNER], { role: 'owner' })) as [TelegramUser];
});
test.after.always(async () => {
  await system?.stop();
});

const put = (telegramId: number | string, role: unknown, auth = owner) =>
  system.request(`/api/panel/admins/${telegramId}`, { method: 'PUT', auth, body: JSON.stringify({ role }) });
const del = (telegramId: number | string, auth = owner) =>
  system.request(`/api/panel/admins/${telegramId}`, { method: 'DELETE', auth });
const roleOf = async (telegramId: number) =>
  (await system.em().findOne(TelegramUser, { telegramId: String(telegramId) }))?.role ?? null;
const auditFor = async (telegramId: number) => {
  const user = await system.em().findOneOrFail(TelegramUser, { telegramId: String(telegramId) });
  return system.em().find(AuditLog, { targetId: user.id }, { orderBy: { createdAt: 'asc' } });
};

test.serial(
  'grant to a Telegram id that never opened the Mini App, change, revoke — all audited',
  async (t) => {
    const id = 8_000_000_001;
    const granted = await put(id, 'trainer');
    t.is(granted.status, 200);
    t.deepEqual(await granted.json(), {
      telegramId: String(id),
      role: 'trainer',
      previousRole: null,
      changed: true,
    });
    t.is(await roleOf(id), 'trainer');

    // The new trainer can now use the panel, within the trainer's permissions.
    const trainer = authHeader({ id, first_name: 'Tess' });
    t.is((await system.request('/api/panel/applications', { auth: trainer })).status, 200);
    t.is((await system.request('/api/panel/admins', { auth: trainer })).status, 403);

    const list = await (await system.request('/api/panel/admins', { auth: owner })).json();
    t.like(
      list.items.find((item: { telegramId: string }) => item.telegramId === String(id)),
      { role: 'trainer', firstName: 'Tess', configured: false },
    );
    t.is(list.items[0].role, 'owner', 'owners first');
    const one = await system.request(`/api/panel/admins/${id}`, { auth: owner });
    t.is(one.status, 200);
    t.deepEqual(await one.json(), {
      telegramId: String(id),
      firstName: 'Tess',
      lastName: null,
      username: null,
      role: 'trainer',
      configured: false,
    });

    t.is((await put(id, 'support')).status, 200);
    const same = await put(id, 'support');
    t.false((await same.json()).changed, 'no change, no audit record');
    t.is((await del(id)).status, 204);
    t.is(await roleOf(id), null);
    t.is((await del(id)).status, 404);
    const gone = await system.request(`/api/panel/admins/${id}`, { auth: owner });
    t.is(gone.status, 404);
    t.is((await gone.json()).error.code, 'admin_not_found');

    const audit = await auditFor(id);
    t.deepEqual(
      audit.map((row) => [row.action, row.details?.from, row.details?.to, row.actorId]),
      [
        ['admin.grant', null, 'trainer', ownerId],
        ['admin.change', 'trainer', 'support', ownerId],
        ['admin.revoke', 'support', null, ownerId],
      ],
    );
    t.is((await system.request('/api/panel/applications', { auth: trainer })).status, 403);
  },
);

test.serial('bad admin requests are 400', async (t) => {
  for (const [telegramId, body] of [
    ['8001', { role: 'god' }],
    ['8001', { role: 'owner', extra: true }],
    ['8001', {}],
    ['abc', { role: 'owner' }],
    ['-5', { role: 'owner' }],
    ['99999999999999999999', { role: 'owner' }],
  ] as const) {
    const response = await system.request(`/api/panel/admins/${telegramId}`, {
      method: 'PUT',
      auth: owner,
      body: JSON.stringify(body),
    });
    t.is(response.status, 400, `${telegramId} ${JSON.stringify(body)}`);
  }
  t.is((await del('0')).status, 400);
  t.is((await system.request('/api/panel/admins/abc', { auth: owner })).status, 400);
});

test.serial('the last owner cannot be removed or demoted', async (t) => {
  for (const response of [await del(OWNER), await put(OWNER, 'trainer')]) {
    t.is(response.status, 409);
    t.is((await response.json()).error.code, 'last_owner');
  }
  t.is(await roleOf(OWNER), 'owner');
  // With a second owner the first may step down, and then the second is the last one.
  const second = 8_000_000_002;
  t.is((await put(second, 'owner')).status, 200);
  t.is((await put(OWNER, 'support')).status, 200);
  t.is((await put(second, 'trainer', authHeader({ id: second }))).status, 409);
  t.is((await put(OWNER, 'owner', authHeader({ id: second }))).status, 200);
  t.is((await del(second)).status, 204);
});

test.serial('two owners demoting each other at the same moment: exactly one succeeds', async (t) => {
  for (let round = 0; round < 5; round++) {
    const other = 8_000_000_100 + round;
    t.is((await put(other, 'owner')).status, 200);
    const otherUser = await system.em().findOneOrFail(TelegramUser, { telegramId: String(other) });
    // Both past the permission check, so the lock alone decides: straight into the domain.
    const demote = (telegramId: number, actorId: string) =>
      setAdminRole(system.em(), {
        tenantId: DEFAULT_TENANT_ID,
        actorId,
        telegramId: String(telegramId),
        role: 'trainer',
        configuredOwners: [],
      }).then(
        () => 'ok',
        (error: { code?: string }) => error.code,
      );
    const outcomes = await Promise.all([demote(other, ownerId), demote(OWNER, otherUser.id)]);
    t.deepEqual(outcomes.sort(), ['last_owner', 'ok'], `round ${round}`);
    const owners = await system.em().count(TelegramUser, { role: 'owner' });
    t.is(owners, 1, `round ${round}: one owner left`);
    // Restore: OWNER is the owner again for the next round.
    if ((await roleOf(OWNER)) !== 'owner') {
      t.is((await put(OWNER, 'owner', authHeader({ id: other }))).status, 200);
      t.is((await del(other)).status, 204);
    } else {
      t.is((await del(other)).status, 204);
    }
  }
});

test.serial('the same race over HTTP: one 200, the other 403 (already demoted) or 409', async (t) => {
  const other = 8_000_000_150;
  t.is((await put(other, 'owner')).status, 200);
  const [a, b] = await Promise.all([put(other, 'trainer'), put(OWNER, 'trainer', authHeader({ id: other }))]);
  const statuses = [a.status, b.status].sort();
  t.true(statuses[0] === 200 && [403, 409].includes(statuses[1]!), String(statuses));
  t.is(await system.em().count(TelegramUser, { role: 'owner' }), 1);
  const survivor = (await roleOf(OWNER)) === 'owner' ? OWNER : other;
  t.is((await put(OWNER, 'owner', authHeader({ id: survivor }))).status, 200);
  t.is((await del(other)).status, 204);
});

test.serial(
  'a role change that fails at commit leaves neither the change nor its audit record',
  async (t) => {
    const id = 8_000_000_200;
    t.is((await put(id, 'support')).status, 200);
    const before = (await auditFor(id)).length;
    const connection = system.em().getConnection();
    await connection.execute(`create function fail_role_commit() returns trigger language plpgsql as $$
    begin raise exception 'forced failure at commit'; end $$`);
    await connection.execute(`create constraint trigger fail_role after update on telegram_user
    deferrable initially deferred for each row when (new.telegram_id = ${id}) execute function fail_role_commit()`);
    t.teardown(() =>
      connection.execute(
        'drop trigger if exists fail_role on telegram_user; drop function if exists fail_role_commit()',
      ),
    );
    const response = await put(id, 'trainer');
    t.is(response.status, 500);
    t.is(await roleOf(id), 'support');
    t.is((await auditFor(id)).length, before, 'the audit insert was rolled back with the change');
  },
);

test.serial('audit log: newest first, keyset paged, with the actor', async (t) => {
  const all = await system.em().count(AuditLog, {});
  t.true(all >= 8);
  const seen: { id: string; action: string; createdAt: string; details: Record<string, unknown> }[] = [];
  let cursor: string | null = null;
  do {
    const response = await system.request(
      `/api/panel/audit-log?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      {
        auth: owner,
      },
    );
    t.is(response.status, 200);
    const body = await response.json();
    t.true(body.items.length <= 3);
    seen.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  t.is(seen.length, all);
  t.is(new Set(seen.map((row) => row.id)).size, all);
  const times = seen.map((row) => row.createdAt);
  t.deepEqual(times, [...times].sort().reverse());
  // The newest record is the grant of the previous test (its failed change left none).
  t.like(seen[0], { action: 'admin.grant', actor: { telegramId: String(OWNER) }, targetType: 'user' });
  t.like(seen[0]!.details, { from: null, to: 'support' });
  t.is((await system.request('/api/panel/audit-log?cursor=nope', { auth: owner })).status, 400);
});

test.serial(
  'TELEGRAM_ADMINS are stored as owners at boot and cannot be demoted through the API',
  async (t) => {
    const configured = ['8000000300', String(OWNER)];
    await ensureConfiguredOwners(system.orm, DEFAULT_TENANT_ID, configured);
    await ensureConfiguredOwners(system.orm, DEFAULT_TENANT_ID, configured);
    t.is(await roleOf(8_000_000_300), 'owner');
    t.is(await system.em().count(TelegramUser, { telegramId: '8000000300' }), 1);
    const error = await t.throwsAsync(
      setAdminRole(system.em(), {
        tenantId: DEFAULT_TENANT_ID,
        actorId: ownerId,
        telegramId: '8000000300',
        role: 'trainer',
        configuredOwners: configured,
      }),
    );
    t.is((error as { code?: string }).code, 'configured_owner');
  },
);

test.serial(
  'removing an id from TELEGRAM_ADMINS revokes the owner role it gave, and only that',
  async (t) => {
    // 8000000300 became owner through TELEGRAM_ADMINS (previous test); the OWNER row was owner already.
    const { revoked } = await ensureConfiguredOwners(system.orm, DEFAULT_TENANT_ID, [String(OWNER)]);
    t.deepEqual(revoked, ['8000000300']);
    t.is(await roleOf(8_000_000_300), null);
    t.is(await roleOf(OWNER), 'owner', 'ids still configured stay owners');
    const audit = await system
      .em()
      .findOneOrFail(AuditLog, { action: 'admin.revoke', targetId: '8000000300' });
    t.like(audit.details, { source: 'TELEGRAM_ADMINS', from: 'owner', to: null });
    const panel = await system.request('/api/panel/admins', { auth: authHeader({ id: 8_000_000_300 }) });
    t.is(panel.status, 403);
  },
);
