import test, { type ExecutionContext } from 'ava';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTcpProxy, viaProxy } from './helpers/tcp-proxy.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/** A system whose PostgreSQL the test can cut; restored before the system stops, so shutdown never waits on it. */
async function systemBehindProxy(t: ExecutionContext) {
  const proxy = await startTcpProxy(5432);
  const system = await startTestSystem({ worker: false, systemDatabaseUrl: viaProxy(proxy) });
  t.teardown(async () => {
    await proxy.restore().catch(() => {});
    await system.stop();
    await proxy.close().catch(() => {});
  });
  return { proxy, system };
}

test('PostgreSQL unreachable: 503 JSON with Retry-After, nothing half-written, recovers by itself', async (t) => {
  const { proxy, system } = await systemBehindProxy(t);
  const auth = authHeader({ id: 8101 });
  t.is((await system.request('/api/me', { auth })).status, 200);

  await proxy.cut();
  for (const path of ['/api/me', '/api/surveys']) {
    const response =
      path === '/api/me'
        ? await system.request(path, { auth })
        : await system.request(path, {
            method: 'POST',
            auth,
            body: JSON.stringify({ answers: validAnswers }),
          });
    t.is(response.status, 503, path);
    t.truthy(response.headers.get('retry-after'));
    const body = await response.json();
    t.is(body.error.code, 'service_unavailable');
    t.false(JSON.stringify(body).includes('ECONNREFUSED'), 'no internals leak');
  }
  const ready = await system.request('/readyz');
  t.is(ready.status, 503);
  t.is((await ready.json()).checks.postgres, 'down');

  await proxy.restore();
  await waitFor('API answers again', async () => (await system.request('/api/me', { auth })).status === 200);
  const submitted = await system.request('/api/surveys', {
    method: 'POST',
    auth,
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(submitted.status, 202);
});

test('a web process started while PostgreSQL is down is alive (healthz 200), not ready, and serves once it is back', async (t) => {
  const { proxy, system } = await systemBehindProxy(t);
  await proxy.cut();
  // A fresh process: it has never read the tenant table.
  const { baseUrl } = await system.startWebProcess();
  const get = (path: string, init: RequestInit = {}) => fetch(`${baseUrl}${path}`, init);
  t.is((await get('/healthz')).status, 200, 'liveness does not wait for the tenant table');
  t.is((await get('/readyz')).status, 503);
  const auth = { authorization: authHeader({ id: 8102 }) };
  t.is((await get('/api/me', { headers: auth })).status, 503);

  await proxy.restore();
  await waitFor('API answers again', async () => (await get('/api/me', { headers: auth })).status === 200);
});
