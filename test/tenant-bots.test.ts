import test from 'ava';
import type { Config } from '../src/config/env.ts';
import { TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import type { FakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import { startFakeTelegramFleet } from '../src/dev/fake-telegram-fleet.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { BotStartError, createBotProcess } from '../src/processes/bot-process.ts';
import { TEST_BOT_TOKEN } from './helpers/init-data.ts';
import {
  addTenantWithBot,
  deleteTenantRow,
  newBotToken,
  startUpdate,
  storeBotToken,
} from './helpers/tenant-bots.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/** One bot process over the system's tenants; stopped when the test ends. */
function botProcessOf(t: { teardown(fn: () => Promise<void>): void }, system: TestSystem, config?: Config) {
  const bot = createBotProcess({
    config: config ?? system.config,
    orm: system.orm,
    logger: system.logger,
    metrics: createMetrics(),
    retryDelaysMs: [50, 100],
  });
  t.teardown(() => bot.stop());
  return bot;
}

const repliesIn = (fake: FakeTelegramBotApi, chatId: number) =>
  fake.sentMessages.filter((message) => message.chatId === String(chatId));
/** Long polls only: a poller that stops confirms its offset with one short getUpdates. */
const getUpdatesCalls = (fake: FakeTelegramBotApi) =>
  fake.calls.filter(
    (call) => call.method === 'getUpdates' && (call.body as { timeout?: unknown }).timeout !== undefined,
  ).length;

test('one process polls every bot: /start to bot b registers the user in b only and b answers', async (t) => {
  const system = await startTestSystem({ tenants: [{ slug: 'b' }], worker: false });
  t.teardown(() => system.stop());
  const b = system.tenants.b!;
  const bot = botProcessOf(t, system);
  await bot.start();

  b.telegram.payments.deliver(startUpdate(9001, 'Bea'));
  await waitFor('bot b greets', () => repliesIn(b.telegram, 9001).length);
  const [greeting] = repliesIn(b.telegram, 9001);
  t.regex(greeting!.text, /^Hi, Bea!/);
  // b's Mini App is b's page, under its slug.
  t.deepEqual(greeting!.replyMarkup, {
    inline_keyboard: [[{ text: 'Open the app', web_app: { url: 'https://coach.example/app/b/' } }]],
  });
  t.is(repliesIn(system.telegram, 9001).length, 0, 'the default bot said nothing');
  const inB = await forkForTenant(system.orm, b.id).findOne(TelegramUser, { telegramId: '9001' });
  t.is(inB?.firstName, 'Bea');
  t.is(await forkForTenant(system.orm).findOne(TelegramUser, { telegramId: '9001' }), null);

  // The same Telegram user starts the default coach's bot too: a second, separate client.
  system.telegram.payments.deliver(startUpdate(9001, 'Bea'));
  await waitFor('the default bot greets', () => repliesIn(system.telegram, 9001).length);
  const inDefault = await forkForTenant(system.orm).findOne(TelegramUser, { telegramId: '9001' });
  t.truthy(inDefault);
  t.not(inDefault!.id, inB!.id);
  t.is(inDefault!.tenantId, DEFAULT_TENANT_ID);
  t.is(inB!.tenantId, b.id);
  t.is(repliesIn(b.telegram, 9001).length, 1, 'bot b answered only its own update');
});

test('a coach added while the process runs is polled, a changed token restarts, a removed coach stops', async (t) => {
  const system = await startTestSystem({ tenants: [{ slug: 'b' }], worker: false });
  t.teardown(() => system.stop());
  // This process's own Telegram, where the test can add bots (the system's fleet is its own).
  const fleet = await startFakeTelegramFleet([
    { token: TEST_BOT_TOKEN, perChatPerSecond: 0 },
    { token: system.tenants.b!.botToken, perChatPerSecond: 0 },
  ]);
  t.teardown(() => fleet.close());
  const config: Config = {
    ...system.config,
    telegram: { ...system.config.telegram, apiRoot: fleet.apiRoot },
    tenants: { ...system.config.tenants, cacheMs: 100 },
  };
  const bot = botProcessOf(t, system, config);
  await bot.start();
  t.is(bot.pollers.size, 2);

  const c = await addTenantWithBot(system.orm, config, fleet, 'c');
  await waitFor('c is polled without a restart', () => getUpdatesCalls(c.telegram!) > 0);
  c.telegram!.payments.deliver(startUpdate(9101, 'Cleo'));
  await waitFor('bot c greets', () => repliesIn(c.telegram!, 9101).length);
  t.truthy(await forkForTenant(system.orm, c.id).findOne(TelegramUser, { telegramId: '9101' }));

  // The coach got a new token for the same bot account: the old poller lets go, the new one polls.
  const rotated = newBotToken();
  const rotatedFake = await fleet.addBot(rotated, { perChatPerSecond: 0 });
  await storeBotToken(system.orm, config, c.id, rotated);
  await waitFor('the new token is polled', () => getUpdatesCalls(rotatedFake) > 0);
  t.is(bot.pollers.get(c.id)?.token, rotated);
  rotatedFake.payments.deliver(startUpdate(9102, 'Cleo'));
  await waitFor('the rotated bot greets', () => repliesIn(rotatedFake, 9102).length);

  await deleteTenantRow(system.orm, c.id);
  await waitFor('c is no longer polled', () => !bot.pollers.has(c.id));
  t.true(system.logs.some((line) => line.includes('"bot_removed"') && line.includes('"tenant":"c"')));
  const callsAfter = getUpdatesCalls(rotatedFake);
  // Bot b still works after all of that.
  const bFake = fleet.bot(system.tenants.b!.botToken);
  bFake.payments.deliver(startUpdate(9103, 'Bob'));
  await waitFor('bot b greets', () => repliesIn(bFake, 9103).length);
  t.is(getUpdatesCalls(rotatedFake), callsAfter, 'the removed bot is not polled any more');
  t.is(bot.pollers.size, 2);
});

test('a revoked token (401) of one coach is logged without the token and retried; the other bots keep polling', async (t) => {
  const system = await startTestSystem({ tenants: [{ slug: 'b' }], worker: false });
  t.teardown(() => system.stop());
  // Telegram knows no bot with r's token: every call answers 401 Unauthorized.
  const r = await addTenantWithBot(system.orm, system.config, undefined, 'r');
  const bot = botProcessOf(t, system);
  await bot.start();

  const failures = () =>
    system.logs.filter((line) => line.includes('"bot_setup_failed"') && line.includes('"tenant":"r"'));
  await waitFor('r is retried', () => failures().length >= 3);
  t.regex(failures()[0]!, /401|Unauthorized/);
  const everything = system.logs.join('\n');
  t.false(everything.includes(r.botToken));
  t.false(everything.includes(r.botToken.split(':')[1]!));

  const b = system.tenants.b!;
  b.telegram.payments.deliver(startUpdate(9201, 'Bob'));
  await waitFor('bot b still greets', () => repliesIn(b.telegram, 9201).length);
  system.telegram.payments.deliver(startUpdate(9202, 'Dee'));
  await waitFor('the default bot still greets', () => repliesIn(system.telegram, 9202).length);

  // The coach fixes the token: the next pass polls with it.
  await storeBotToken(system.orm, system.config, r.id, newBotToken());
  await bot.refresh();
  t.not(bot.pollers.get(r.id)?.token, r.botToken);
});

test("a 409 (a webhook set for bot b elsewhere) ends only b's polling, which recovers on its own", async (t) => {
  const system = await startTestSystem({ tenants: [{ slug: 'b' }], worker: false });
  t.teardown(() => system.stop());
  const b = system.tenants.b!;
  const bot = botProcessOf(t, system);
  await bot.start();
  await waitFor('b polls', () => getUpdatesCalls(b.telegram) > 0);

  // Someone registers a webhook for b's bot: Telegram answers b's next getUpdates with 409.
  const taken = await fetch(`${b.telegram.apiRoot}/bot${b.botToken}/setWebhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: 'https://elsewhere.example/hook' }),
  });
  t.is(taken.status, 200);
  const conflicts = () =>
    system.logs.filter((line) => line.includes('"bot_polling_failed"') && line.includes('"tenant":"b"'));
  await waitFor('the 409 is logged', () => conflicts().length);
  t.regex(conflicts()[0]!, /409/);
  t.false(conflicts()[0]!.includes(b.botToken));

  // The retry deletes the webhook again and polls: b answers, and the default bot never stopped.
  const pollsBefore = getUpdatesCalls(b.telegram);
  await waitFor('b polls again', () => getUpdatesCalls(b.telegram) > pollsBefore);
  b.telegram.payments.deliver(startUpdate(9401, 'Bob'));
  await waitFor('bot b greets again', () => repliesIn(b.telegram, 9401).length);
  system.telegram.payments.deliver(startUpdate(9402, 'Dee'));
  await waitFor('the default bot greets', () => repliesIn(system.telegram, 9402).length);
  t.false(
    system.logs.some((line) => line.includes('"bot_polling_failed"') && line.includes('"tenant":"default"')),
  );
});

test('without any bot token the process refuses to start and says how to add one', async (t) => {
  const system = await startTestSystem({ worker: false });
  t.teardown(() => system.stop());
  const config: Config = { ...system.config, telegram: { ...system.config.telegram, botToken: undefined } };
  const error = await t.throwsAsync(botProcessOf(t, system, config).start(), { instanceOf: BotStartError });
  t.regex(error!.message, /TELEGRAM_BOT_TOKEN/);
  t.regex(error!.message, /tenant:create/);
});

test('a single bot with a bad token fails start clearly, without the token', async (t) => {
  const system = await startTestSystem({ worker: false });
  t.teardown(() => system.stop());
  const badToken = newBotToken();
  const config: Config = { ...system.config, telegram: { ...system.config.telegram, botToken: badToken } };
  const error = await t.throwsAsync(botProcessOf(t, system, config).start(), { instanceOf: BotStartError });
  t.regex(error!.message, /Bot API setup failed: .*401/);
  t.false(error!.message.includes(badToken));
});
