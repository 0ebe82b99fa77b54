import type { AddressInfo } from 'node:net';
import test from 'ava';
import Koa from 'koa';
import pg from 'pg';
import { errorMiddleware } from '../src/http/error-middleware.ts';
import { TEST_SERVER_URL } from './helpers/test-database.ts';

/**
 * Input PostgreSQL refuses must be a 400 even if it slipped past validation: the real server's
 * errors for each case, raised through the real error middleware.
 */
const CASES: [string, string, string][] = [
  ['lone surrogate in jsonb (22P02)', String.raw`select '"\ud800"'::jsonb`, 'invalid_text'],
  ['year 0000 (22008)', "select '0000-01-01T00:00:00Z'::timestamptz", 'invalid_value'],
  ['bigint overflow (22003)', 'select 99999999999999999999::bigint', 'invalid_value'],
  ['not UTF-8 (22021)', String.raw`select convert_from('\xff'::bytea, 'UTF8')`, 'invalid_text'],
  ['NUL in jsonb (22P05)', String.raw`select '"\u0000"'::jsonb->>0 || ''`, 'invalid_text'],
  // Not bad input: the transaction lost a race with another one; the client retries.
  [
    'a deadlock (40P01)',
    `do $$ begin raise exception 'deadlock detected' using errcode = '40P01'; end $$`,
    'try_again',
  ],
];

let client: pg.Pool;
let base: string;
let server: ReturnType<Koa['listen']>;
test.before(async () => {
  client = new pg.Pool({ connectionString: TEST_SERVER_URL, max: 5 });
  const app = new Koa();
  app.silent = true;
  app.use(errorMiddleware);
  app.use(async (ctx) => {
    await client.query(CASES[Number(ctx.query.case)]![1]);
    ctx.body = { ok: true };
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after.always(async () => {
  await client?.end();
  server?.close();
});

for (const [index, [name, , code]] of CASES.entries()) {
  const status = code === 'try_again' ? 503 : 400;
  test(`${name} → ${status} ${code}, no internals`, async (t) => {
    const response = await fetch(`${base}/?case=${index}`);
    const body = await response.json();
    t.is(response.status, status, JSON.stringify(body));
    t.is(body.error.code, code);
    t.false(JSON.stringify(body).includes('select'), 'no SQL in the answer');
  });
}
