import test from 'ava';
import { TelegramUser } from '../src/db/entities/index.ts';
import { authHeader } from './helpers/init-data.ts';
import { rawRequest } from './helpers/raw-http.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * The path-case bypass as an outside tester found it: @koa/router matched routes case-insensitively
 * while the guards matched case-sensitively, so another letter case reached handlers unguarded.
 */
const OWNER = 810001;
const SECRET = 'path-variant-bot-secret-0123456789';
let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    worker: false,
    env: { TELEGRAM_BOT_API_SECRET: SECRET, BOT_API_ALLOWED_IPS: '10.9.9.9' },
  });
  await seedUsers(system.em(), [OWNER], { role: 'owner' });
});
test.after.always(async () => {
  await system?.stop();
});

test('the reported requests are 404 and change nothing', async (t) => {
  for (const path of ['/API/PANEL/ADMINS', `/Api/Bot/Users/${OWNER}`, '/API/PANEL/CLIENTS', '/API/ME']) {
    const response = await rawRequest(system.baseUrl, path);
    t.is(response.status, 404, `${path}: ${response.text}`);
    t.is(JSON.parse(response.text).error.code, 'not_found');
  }
  const overwrite = await rawRequest(system.baseUrl, '/Api/Bot/Users', {
    method: 'POST',
    body: JSON.stringify({ telegramId: String(OWNER), firstName: 'Mallory' }),
  });
  t.is(overwrite.status, 404);
  const owner = await system.em().findOneOrFail(TelegramUser, { telegramId: String(OWNER) });
  t.is(owner.firstName, `User ${OWNER}`);
  t.is(owner.role, 'owner');
});

test('handlers that need a caller never run without one: variants are 404, not 500', async (t) => {
  const nonAdmin = authHeader({ id: 810002 });
  for (const [path, auth] of [
    ['/API/ME', undefined],
    ['/Api/plans/0b5c4ad6-3f44-4c1f-9e53-1b8a4e6f2d10', undefined],
    ['/api/PANEL/applications', nonAdmin],
    ['/api/panel/Admins', nonAdmin],
  ] as const) {
    const response = await rawRequest(system.baseUrl, path, auth ? { headers: { authorization: auth } } : {});
    t.is(response.status, 404, `${path}: ${response.text}`);
  }
});

test('the exact bot API paths still enforce the IP allowlist and the secret', async (t) => {
  const response = await rawRequest(system.baseUrl, `/api/bot/users/${OWNER}`, {
    headers: { 'x-bot-api-secret': SECRET },
  });
  t.is(response.status, 403, 'the test client is not at an allowed IP');
});

test('methods no route knows are JSON errors too', async (t) => {
  const trace = await rawRequest(system.baseUrl, '/healthz', { method: 'PROPFIND' });
  t.is(trace.status, 501);
  t.is(JSON.parse(trace.text).error.code, 'method_not_implemented');
  const wrong = await rawRequest(system.baseUrl, '/api/me', { method: 'DELETE' });
  t.is(wrong.status, 405);
  t.is(wrong.headers.allow, 'HEAD, GET');
});
