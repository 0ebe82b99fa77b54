import test from 'ava';
import type pino from 'pino';
import type { Config } from '../src/config/env.ts';
import { createLogger } from '../src/config/logger.ts';
import { TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import type { FakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import { startFakeTelegramFleet } from '../src/dev/fake-telegram-fleet.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createWebProcess } from '../src/processes/web-process.ts';
import { expectError } from './helpers/expect-error.ts';
import { TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { addTenantWithBot, newBotToken, startUpdate, storeBotToken } from './helpers/tenant-bots.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const WEBHOOK_URL = 'https://coach.example/telegram/webhook';
const SECRET = 'whsec-default-123';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    tenants: [{ slug: 'b' }],
    env: { TELEGRAM_WEBHOOK_URL: WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET: SECRET },
    worker: false,
  });
});
test.after.always(async () => {
  await system?.stop();
});

/** What the web process gave Telegram for this bot at start (Telegram echoes the secret back). */
function registration(fake: FakeTelegramBotApi) {
  const call = fake.calls.find((each) => each.method === 'setWebhook');
  return call?.body as { url: string; secret_token: string; allowed_updates: string[] } | undefined;
}

function post(path: string, body: unknown, secret?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== undefined) headers['x-telegram-bot-api-secret-token'] = secret;
  return system.request(path, { method: 'POST', headers, body: JSON.stringify(body) });
}

const repliesIn = (fake: FakeTelegramBotApi, chatId: number) =>
  fake.sentMessages.filter((message) => message.chatId === String(chatId));

test('at start every bot got its own webhook: its URL under its slug and its own secret', (t) => {
  const b = registration(system.tenants.b!.telegram);
  const main = registration(system.telegram);
  t.like(main, { url: WEBHOOK_URL, secret_token: SECRET });
  t.is(b?.url, `${WEBHOOK_URL}/b`);
  t.truthy(b?.secret_token);
  t.not(b!.secret_token, SECRET);
  t.deepEqual(b!.allowed_updates, ['message', 'callback_query', 'my_chat_member', 'pre_checkout_query']);
  t.false(system.logs.join('\n').includes(b!.secret_token), 'the secret is never logged');
});

test("b's webhook refuses the default secret (401) and handles b's own: the user is b's and bot b answers", async (t) => {
  const b = system.tenants.b!;
  const secret = registration(b.telegram)!.secret_token;

  const refused = await post('/telegram/webhook/b', startUpdate(9301, 'Mallory'), SECRET);
  await expectError(t, refused, 401, 'invalid_webhook_secret');
  t.is(repliesIn(b.telegram, 9301).length, 0);
  t.is(await forkForTenant(system.orm, b.id).findOne(TelegramUser, { telegramId: '9301' }), null);
  // And the other way round: b's secret opens only b's URL.
  await expectError(
    t,
    await post('/telegram/webhook', startUpdate(9301, 'Mallory'), secret),
    401,
    'invalid_webhook_secret',
  );

  const handled = await post('/telegram/webhook/b', startUpdate(9302, 'Bea'), secret);
  t.is(handled.status, 200);
  t.deepEqual(await handled.json(), { ok: true });
  const [greeting] = repliesIn(b.telegram, 9302);
  t.regex(greeting?.text ?? '', /^Hi, Bea!/);
  t.deepEqual(greeting?.replyMarkup, {
    inline_keyboard: [[{ text: 'Open the app', web_app: { url: 'https://coach.example/app/b/' } }]],
  });
  t.is(repliesIn(system.telegram, 9302).length, 0, 'the default bot said nothing');
  t.is(
    (await forkForTenant(system.orm, b.id).findOne(TelegramUser, { telegramId: '9302' }))?.firstName,
    'Bea',
  );
  t.is(await forkForTenant(system.orm).findOne(TelegramUser, { telegramId: '9302' }), null);
});

test('the same Telegram user starting both bots is two clients, one per coach', async (t) => {
  const b = system.tenants.b!;
  const bSecret = registration(b.telegram)!.secret_token;
  t.is((await post('/telegram/webhook', startUpdate(9310, 'Ann'), SECRET)).status, 200);
  t.is((await post('/telegram/webhook/b', startUpdate(9310, 'Ann'), bSecret)).status, 200);
  const inDefault = await forkForTenant(system.orm).findOne(TelegramUser, { telegramId: '9310' });
  const inB = await forkForTenant(system.orm, b.id).findOne(TelegramUser, { telegramId: '9310' });
  t.is(inDefault?.tenantId, DEFAULT_TENANT_ID);
  t.is(inB?.tenantId, b.id);
  t.not(inDefault!.id, inB!.id);
  t.is(repliesIn(system.telegram, 9310).length, 1);
  t.is(repliesIn(b.telegram, 9310).length, 1);
});

test('an unknown coach, the default slug or a slug that cannot exist is a 404 like a missing path', async (t) => {
  for (const path of [
    '/telegram/webhook/nobody',
    '/telegram/webhook/default',
    '/telegram/webhook/NOPE',
    '/telegram/webhook/b/x',
    '/telegram/webhook/%62',
  ]) {
    const response = await post(path, startUpdate(9320, 'Eve'), SECRET);
    t.is(response.status, 404, path);
  }
});

test('a coach added later gets its webhook on the next pass; a failing registration is logged and retried', async (t) => {
  // A web process of its own on a Telegram where the test can add bots.
  const fleet = await startFakeTelegramFleet([{ token: TEST_BOT_TOKEN }]);
  t.teardown(() => fleet.close());
  const config: Config = {
    ...system.config,
    telegram: { ...system.config.telegram, apiRoot: fleet.apiRoot },
  };
  const logs: string[] = [];
  const web = createWebProcess({
    config,
    orm: system.orm,
    logger: createLogger('debug', {
      write: (line: string) => void logs.push(line),
    } as pino.DestinationStream),
    metrics: createMetrics(),
    redisTarget: TEST_REDIS_URL,
  });
  t.teardown(() => web.stop());
  await web.start();
  // b's bot is not on this Telegram: its registration failed, logged without its token.
  const failed = logs.filter(
    (line) => line.includes('"telegram_webhook_setup_failed"') && line.includes('"tenant":"b"'),
  );
  t.true(failed.length > 0);
  t.false(logs.join('\n').includes(system.tenants.b!.botToken));

  const late = await addTenantWithBot(system.orm, config, fleet, 'late');
  // A coach whose token Telegram does not know yet (401): logged, and tried again on every pass.
  const fixed = await addTenantWithBot(system.orm, config, undefined, 'fixed');
  await web.tenants.refresh();
  await web.webhookBots!.registerPending();
  t.like(registration(late.telegram!), { url: `${WEBHOOK_URL}/late` });
  const fixedFailures = () =>
    logs.filter(
      (line) => line.includes('"telegram_webhook_setup_failed"') && line.includes('"tenant":"fixed"'),
    ).length;
  t.is(fixedFailures(), 1);
  await web.webhookBots!.registerPending();
  t.is(fixedFailures(), 2, 'tried again on the next pass');
  t.false(logs.join('\n').includes(fixed.botToken));

  // The coach stores a token Telegram knows: the next pass registers that bot.
  const rotated = newBotToken();
  const rotatedFake = await fleet.addBot(rotated);
  await storeBotToken(system.orm, config, fixed.id, rotated);
  await web.tenants.refresh();
  await web.webhookBots!.registerPending();
  t.like(registration(rotatedFake), { url: `${WEBHOOK_URL}/fixed` });
  t.is(fixedFailures(), 2);
  // Registered bots are not registered again on later passes.
  const calls = late.telegram!.calls.length;
  await web.webhookBots!.registerPending();
  t.is(late.telegram!.calls.length, calls);
});
