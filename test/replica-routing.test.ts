import test from 'ava';
import { Application, TelegramUser } from '../src/db/entities/index.ts';
import { authHeader } from './helpers/init-data.ts';
import { seedApplicant, seedUsers } from './helpers/seed.ts';
import { startTcpProxy, viaProxy } from './helpers/tcp-proxy.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * The "replica" is the same database reached through a TCP proxy the test can cut: whatever fails
 * while it is cut was routed to the replica, whatever keeps working went to the primary.
 */
const OWNER = 400001;
const owner = authHeader({ id: OWNER });
const LISTS = ['/api/panel/applications', '/api/panel/clients', '/api/panel/audit-log', '/api/panel/admins'];

let system: TestSystem;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
test.before(async () => {
  proxy = await startTcpProxy(5432);
  system = await startTestSystem({
    worker: false,
    env: { TELEGRAM_ADMINS: String(OWNER) },
    replicaUrls: (url) => [viaProxy(proxy)(url)],
  });
});
test.after.always(async () => {
  await proxy?.restore().catch(() => {});
  await system?.stop();
  await proxy?.close();
});

test.serial('panel list reads go to the replica; writes and the Mini App stay on the primary', async (t) => {
  t.deepEqual(system.config.database.replicaUrls.length, 1);
  const em = system.em();
  const [applicant] = await seedUsers(em, [400002]);
  await seedApplicant(em, applicant!);
  await seedUsers(em, [400003], { isClient: true });
  const application = await em.findOneOrFail(Application, { userId: applicant!.id });

  for (const path of LISTS) t.is((await system.request(path, { auth: owner })).status, 200, path);

  await proxy.cut();
  for (const path of LISTS) {
    const response = await system.request(path, { auth: owner });
    t.is(response.status, 503, `${path} read through the replica`);
    t.is((await response.json()).error.code, 'service_unavailable');
  }
  // Authentication, decisions and removals are writes and transactions: the primary serves them.
  t.is((await system.request('/api/me', { auth: owner })).status, 200);
  const accepted = await system.request(`/api/panel/applications/${application.id}/accept`, {
    method: 'POST',
    auth: owner,
  });
  t.is(accepted.status, 200);
  t.is((await system.request('/api/panel/clients/400003', { method: 'DELETE', auth: owner })).status, 204);
  t.is(
    (
      await system.request('/api/panel/admins/400004', {
        method: 'PUT',
        auth: owner,
        body: JSON.stringify({ role: 'support' }),
      })
    ).status,
    200,
  );
  t.true((await system.em().findOneOrFail(TelegramUser, { id: applicant!.id })).isClient);

  await proxy.restore();
  const page = await waitFor('replica reads again', async () => {
    const response = await system.request('/api/panel/applications', { auth: owner });
    return response.status === 200 ? response.json() : null;
  });
  t.is(page.items[0].status, 'accepted', 'the replica sees what the primary wrote');
  const audit = await (await system.request('/api/panel/audit-log', { auth: owner })).json();
  t.deepEqual(
    audit.items.map((item: { action: string }) => item.action),
    ['admin.grant', 'client.remove', 'application.accept'],
  );
});
