import test from 'ava';
import type { Pool } from 'pg';
import { createOrm, forkForTenant } from '../src/db/orm.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { createTestDatabase, TEST_SERVER_URL } from './helpers/test-database.ts';
import { waitFor } from './helpers/wait-for.ts';

/** An ORM with a one-connection pool that reaches PostgreSQL through a proxy the test can cut. */
async function ormThroughProxy() {
  const db = await createTestDatabase();
  const target = new URL(TEST_SERVER_URL);
  const proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
  const url = new URL(db.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  const orm = await createOrm({ url: url.toString(), poolMax: 1 });
  const pool = (await orm.em.getConnection().getNativeClient()) as unknown as Pool;
  return { db, proxy, orm, pool };
}

test('a connection lost inside a transaction frees its pool slot: queries work again and shutdown completes', async (t) => {
  const { db, proxy, orm, pool } = await ormThroughProxy();
  t.teardown(async () => {
    await proxy.close();
    await db.drop();
  });

  // The connection drops mid-transaction, so the query, COMMIT and ROLLBACK all fail.
  const em = forkForTenant(orm);
  await t.throwsAsync(
    em.transactional(async (tx) => {
      await tx.execute('select 1');
      await proxy.cut();
      await tx.execute('select 2');
    }),
  );
  await waitFor('the dead client left the pool', () => pool.totalCount === 0);

  await proxy.restore();
  // With a one-slot pool a leaked client would make this wait for a connection and time out.
  const rows = await forkForTenant(orm).execute('select 42 as answer');
  t.deepEqual(rows, [{ answer: 42 }]);
  t.is(pool.totalCount, pool.idleCount, 'no client is left checked out');

  const closed = await Promise.race([
    orm.close().then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('hung'), 5_000)),
  ]);
  t.is(closed, 'closed', 'pool.end() does not wait for a leaked client');
});

test('a checked-out client whose connection dies is released; its holder releasing it again is harmless', async (t) => {
  const { db, proxy, orm, pool } = await ormThroughProxy();
  t.teardown(async () => {
    await proxy.close();
    await orm.close();
    await db.drop();
  });
  await forkForTenant(orm).execute('select 1');

  // Hold the only client, kill its connection, then hand it to a transaction as its connection.
  const client = await pool.connect();
  await proxy.cut();
  await waitFor('the held client was released as dead', () => pool.totalCount === 0);
  t.notThrows(() => client.release(), 'its holder releasing it later is harmless');

  await proxy.restore();
  const count = await forkForTenant(orm).transactional((tx) =>
    tx.execute('select count(*)::int as n from tenant'),
  );
  t.deepEqual(count, [{ n: 1 }]);
  t.is(pool.totalCount, pool.idleCount);
});
