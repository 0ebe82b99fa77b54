import test from 'ava';
import { loadConfig } from '../src/config/env.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

let configured: TestSystem;
let unconfigured: TestSystem;
test.before(async () => {
  [configured, unconfigured] = await Promise.all([
    startTestSystem({ worker: false, env: { TELEGRAM_BOT_USERNAME: '@coach_anna_bot' } }),
    startTestSystem({ worker: false }),
  ]);
});
test.after.always(async () => {
  await Promise.all([configured?.stop(), unconfigured?.stop()]);
});

test('GET /api/panel/login-options names the Login Widget bot to anyone, without the @', async (t) => {
  const response = await configured.request('/api/panel/login-options');
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { botUsername: 'coach_anna_bot' });
});

test('without TELEGRAM_BOT_USERNAME the bot is null, so the login page can say what to set', async (t) => {
  const response = await unconfigured.request('/api/panel/login-options');
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { botUsername: null });
});

test('a TELEGRAM_BOT_USERNAME that is not a bot username stops the boot naming the variable', (t) => {
  t.throws(() => loadConfig({ TELEGRAM_BOT_USERNAME: 'https://t.me/x' }), {
    message: /TELEGRAM_BOT_USERNAME/,
  });
  t.is(loadConfig({ TELEGRAM_BOT_USERNAME: '' }).telegram.botUsername, undefined);
});
