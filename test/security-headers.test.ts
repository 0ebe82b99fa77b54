import test from 'ava';
import { rawRequest } from './helpers/raw-http.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const BOARD = { BULL_BOARD_USER: 'ops', BULL_BOARD_PASSWORD: 'security-headers-board-password' };
let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ worker: false, env: BOARD });
});
test.after.always(async () => {
  await system?.stop();
});

test('JSON answers, errors and 404s carry nosniff, no-referrer and a CSP that frames nothing', async (t) => {
  for (const [path, status] of [
    ['/healthz', 200],
    ['/api/me', 401],
    ['/API/ME', 404],
    ['/nowhere', 404],
  ] as const) {
    const response = await rawRequest(system.baseUrl, path);
    t.is(response.status, status, path);
    t.is(response.headers['x-content-type-options'], 'nosniff', path);
    t.is(response.headers['referrer-policy'], 'no-referrer', path);
    t.is(response.headers['x-frame-options'], 'DENY', path);
    const csp = String(response.headers['content-security-policy']);
    t.true(csp.includes("default-src 'none'"), `${path}: ${csp}`);
    t.true(csp.includes("frame-ancestors 'none'"), `${path}: ${csp}`);
    t.is(response.headers['x-powered-by'], undefined);
    // Per-caller answers (the panel's authenticated by a cookie alone) are never stored by caches.
    t.is(response.headers['cache-control'], 'no-store', path);
  }
});

test('Bull Board gets a same-origin CSP that still frames nothing', async (t) => {
  const authorization = `Basic ${Buffer.from(`${BOARD.BULL_BOARD_USER}:${BOARD.BULL_BOARD_PASSWORD}`).toString('base64')}`;
  const page = await rawRequest(system.baseUrl, '/admin/queues', { headers: { authorization } });
  t.is(page.status, 200);
  const csp = String(page.headers['content-security-policy']);
  t.true(csp.includes("script-src 'self'"), csp);
  t.true(csp.includes("frame-ancestors 'none'"), csp);
  t.is(page.headers['x-content-type-options'], 'nosniff');
  // Every script the page runs comes from this origin, so the policy does not break it (a JSON
  // data block is not run).
  const scripts = [...page.text.matchAll(/<script([^>]*)>/g)]
    .map((match) => match[1]!)
    .filter((attributes) => !attributes.includes('application/json'));
  t.true(scripts.length > 0);
  for (const attributes of scripts) t.regex(attributes, /src="(?!https?:|\/\/)/, attributes);
});
