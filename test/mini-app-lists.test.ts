import test from 'ava';
import { authHeader } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/** GET /api/plans and GET /api/test-results: the caller's own rows, newest first, keyset paged. */
let system: TestSystem;
test.before(async () => {
  system = await startTestSystem();
});
test.after.always(async () => {
  await system?.stop();
});

async function get(path: string, auth: string) {
  const response = await system.request(path, { auth });
  return { status: response.status, body: await response.json() };
}

test('GET /api/plans lists only the caller’s plans, newest first, without content, page by page', async (t) => {
  const me = { id: 940001 };
  const other = { id: 940002 };
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await system.submitSurvey(me.id)).plan.id);
  await system.submitSurvey(other.id);
  await waitFor('plans ready', async () => {
    const { body } = await get('/api/plans?limit=100', authHeader(me));
    return body.items.every((plan: { status: string }) => plan.status === 'ready');
  });

  const first = await get('/api/plans?limit=2', authHeader(me));
  t.is(first.status, 200);
  t.deepEqual(
    first.body.items.map((plan: { id: string }) => plan.id),
    [ids[2], ids[1]],
  );
  t.like(first.body.items[0], { status: 'ready' });
  t.is(first.body.items[0].content, undefined, 'the list leaves the content to GET /api/plans/:id');
  t.truthy(first.body.nextCursor);
  const second = await get(`/api/plans?limit=2&cursor=${first.body.nextCursor}`, authHeader(me));
  t.deepEqual(
    second.body.items.map((plan: { id: string }) => plan.id),
    [ids[0]],
  );
  t.is(second.body.nextCursor, null);

  const empty = await get('/api/plans', authHeader({ id: 940003 }));
  t.deepEqual(empty.body, { items: [], nextCursor: null });
  const bad = await get('/api/plans?cursor=nope', authHeader(me));
  t.is(bad.status, 400);
  t.is((await system.request('/api/plans')).status, 401);
});

test('GET /api/test-results lists only the caller’s results, newest first, page by page', async (t) => {
  const me = { id: 940011 };
  const record = async (user: { id: number }, energy: number) => {
    const response = await system.request('/api/test-results', {
      method: 'POST',
      auth: authHeader(user),
      body: JSON.stringify({ kind: 'check_in', results: { energy }, notes: `energy ${energy}` }),
    });
    t.is(response.status, 201);
    return (await response.json()).id as string;
  };
  const ids = [await record(me, 5), await record(me, 6), await record(me, 7)];
  await record({ id: 940012 }, 9);

  const first = await get('/api/test-results?limit=2', authHeader(me));
  t.is(first.status, 200);
  t.deepEqual(
    first.body.items.map((item: { id: string }) => item.id),
    [ids[2], ids[1]],
  );
  t.like(first.body.items[0], { kind: 'check_in', results: { energy: 7 }, notes: 'energy 7' });
  const second = await get(`/api/test-results?limit=2&cursor=${first.body.nextCursor}`, authHeader(me));
  t.deepEqual(
    second.body.items.map((item: { id: string }) => item.id),
    [ids[0]],
  );
  t.is(second.body.nextCursor, null);
  t.is((await get('/api/test-results?limit=0', authHeader(me))).status, 400);
});
