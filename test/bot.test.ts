import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import test from 'ava';
import type pino from 'pino';
import type { Telegraf } from 'telegraf';
import type { Update, User, UserFromGetMe } from 'telegraf/types';
import { type Config, loadConfig, panelUrlFrom } from '../src/config/env.ts';
import { createLogger } from '../src/config/logger.ts';
import { PersonalPlan, Survey, TelegramUser } from '../src/db/entities/index.ts';
import { createOrm, DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import { type FakeTelegramBotApi, startFakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { createBotProcess } from '../src/processes/bot-process.ts';
import { configureBot, createBot } from '../src/telegram/bot.ts';
import { configuredDefaultTenant } from '../src/telegram/configured-default-tenant.ts';
import { TEST_BOT_TOKEN, validAnswers } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.ts';
import { waitFor } from './helpers/wait-for.ts';

const BOT_INFO: UserFromGetMe = {
  id: 1000000001,
  is_bot: true,
  first_name: 'Coach',
  username: 'coach_test_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};
const MINI_APP_URL = 'https://coach.example/app';

let db: TestDatabase;
let orm: MikroORM;
let fake: FakeTelegramBotApi;
const logs: string[] = [];
let bot: Telegraf;

function configFor(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    TELEGRAM_MINI_APP_URL: MINI_APP_URL,
    ...overrides,
  });
}

/** The same bot the processes run, with botInfo preset so no getMe call is made. */
function botWith(config: Config, botOrm: MikroORM = orm): Telegraf {
  const logger = createLogger('debug', {
    write: (line: string) => void logs.push(line),
  } as pino.DestinationStream);
  const created = createBot({
    config,
    tenant: configuredDefaultTenant(config),
    orm: botOrm,
    logger,
    metrics: createMetrics(),
    updates: 'webhook',
  });
  created.botInfo = BOT_INFO;
  return created;
}

test.before(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.url, poolMax: 4 });
  // Tests send several replies to one chat within a second; flood limits are the sender's concern.
  fake = await startFakeTelegramBotApi({ token: TEST_BOT_TOKEN, perChatPerSecond: 0 });
  bot = botWith(configFor());
});
test.after.always(async () => {
  await orm?.close();
  await fake?.close();
  await db?.drop();
});

type From = Omit<User, 'is_bot'>;

let updateId = 1;
function textUpdate(from: From, text: string, chatType: 'private' | 'group' = 'private'): Update {
  const command = /^\/\w+(@\w+)?/.exec(text)?.[0];
  return {
    update_id: updateId++,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat:
        chatType === 'private'
          ? { id: from.id, type: 'private', first_name: from.first_name }
          : { id: -from.id, type: 'group', title: 'Gym friends' },
      from: { is_bot: false, ...from },
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
    },
  } as Update;
}

function repliesTo(chatId: number) {
  return fake.sentMessages.filter((message) => message.chatId === String(chatId));
}

async function userRow(telegramId: number) {
  return forkForTenant(orm).findOne(TelegramUser, { telegramId: String(telegramId) });
}

async function insertPlan(
  telegramId: number,
  plan: { status: PersonalPlan['status']; error?: string; createdAt?: Date },
): Promise<void> {
  const em = forkForTenant(orm);
  const user =
    (await em.findOne(TelegramUser, { telegramId: String(telegramId) })) ??
    em.create(TelegramUser, {
      id: randomUUID(),
      tenantId: DEFAULT_TENANT_ID,
      telegramId: String(telegramId),
    });
  const survey = em.create(Survey, {
    id: randomUUID(),
    tenantId: DEFAULT_TENANT_ID,
    userId: user.id,
    answers: { ...validAnswers, equipment: [...validAnswers.equipment] },
  });
  em.create(PersonalPlan, {
    id: randomUUID(),
    tenantId: DEFAULT_TENANT_ID,
    userId: user.id,
    surveyId: survey.id,
    status: plan.status,
    error: plan.error ?? null,
    createdAt: plan.createdAt ?? new Date(),
  });
  await em.flush();
}

test('/start registers the user and greets in English with a Mini App button', async (t) => {
  const from = { id: 7001, first_name: 'Anna', last_name: 'Lee', username: 'anna_l', language_code: 'en' };
  await bot.handleUpdate(textUpdate(from, '/start'));

  const user = await userRow(7001);
  t.truthy(user);
  t.is(user!.telegramId, '7001');
  t.is(user!.firstName, 'Anna');
  t.is(user!.lastName, 'Lee');
  t.is(user!.username, 'anna_l');
  t.is(user!.languageCode, 'en');
  const [reply] = repliesTo(7001);
  t.regex(reply!.text, /^Hi, Anna!/);
  t.deepEqual(reply!.replyMarkup, {
    inline_keyboard: [[{ text: 'Open the app', web_app: { url: MINI_APP_URL } }]],
  });
});

test('/start greets in Russian for language_code ru, in English for other languages', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7002, first_name: 'Иван', language_code: 'ru' }, '/start'));
  await bot.handleUpdate(textUpdate({ id: 7003, first_name: 'Hans', language_code: 'de' }, '/start'));
  await bot.handleUpdate(textUpdate({ id: 7004, first_name: 'Kim' }, '/start@coach_test_bot'));

  t.regex(repliesTo(7002)[0]!.text, /^Привет, Иван!/);
  t.deepEqual(repliesTo(7002)[0]!.replyMarkup, {
    inline_keyboard: [[{ text: 'Открыть приложение', web_app: { url: MINI_APP_URL } }]],
  });
  t.is((await userRow(7002))!.languageCode, 'ru');
  t.regex(repliesTo(7003)[0]!.text, /^Hi, Hans!/);
  t.regex(repliesTo(7004)[0]!.text, /^Hi, Kim!/);
  t.is((await userRow(7004))!.languageCode, null);
});

test('/start again after the user was marked unreachable makes them reachable and refreshes the profile', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7010, first_name: 'Old' }, '/start'));
  await forkForTenant(orm).nativeUpdate(TelegramUser, { telegramId: '7010' }, { unreachableAt: new Date() });
  t.truthy((await userRow(7010))!.unreachableAt);

  await bot.handleUpdate(textUpdate({ id: 7010, first_name: 'New', language_code: 'ru' }, '/start'));
  const user = await userRow(7010);
  t.is(user!.unreachableAt, null);
  t.is(user!.firstName, 'New');
  t.is(await forkForTenant(orm).count(TelegramUser, { telegramId: '7010' }), 1);
});

test('/plan without a plan (and for a user the bot has never seen) says there is none yet', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7020, first_name: 'Nobody' }, '/plan'));
  const [reply] = repliesTo(7020);
  t.regex(reply!.text, /You don't have a plan yet/);
  t.deepEqual(reply!.replyMarkup, {
    inline_keyboard: [[{ text: 'Open the app', web_app: { url: MINI_APP_URL } }]],
  });
  t.is(await userRow(7020), null, '/plan does not register anyone');
});

test('/plan with a ready plan says so and offers to open it', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7021, first_name: 'Ready' }, '/start'));
  await insertPlan(7021, { status: 'ready' });
  await bot.handleUpdate(textUpdate({ id: 7021, first_name: 'Ready' }, '/plan'));
  const reply = repliesTo(7021).at(-1)!;
  t.regex(reply.text, /Your personal training plan is ready/);
  t.deepEqual(reply.replyMarkup, {
    inline_keyboard: [[{ text: 'Open my plan', web_app: { url: MINI_APP_URL } }]],
  });
});

test('/plan reports the latest plan only: a newer queued one wins over an older ready one', async (t) => {
  await insertPlan(7022, { status: 'ready', createdAt: new Date(Date.now() - 60_000) });
  await insertPlan(7022, { status: 'queued' });
  await bot.handleUpdate(textUpdate({ id: 7022, first_name: 'Q' }, '/plan'));
  t.regex(repliesTo(7022)[0]!.text, /in the queue/);
});

test('/plan with a failed plan gives the reason, in the stored language when Telegram sends none', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7023, first_name: 'Фёдор', language_code: 'ru' }, '/start'));
  await insertPlan(7023, { status: 'failed', error: 'the AI service is unavailable' });
  await bot.handleUpdate(textUpdate({ id: 7023, first_name: 'Фёдор' }, '/plan'));
  const reply = repliesTo(7023).at(-1)!;
  t.regex(reply.text, /не получилось подготовить ваш план: the AI service is unavailable/);
});

test('/help lists the commands', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7030, first_name: 'H', language_code: 'en-GB' }, '/help'));
  const [reply] = repliesTo(7030);
  t.regex(reply!.text, /\/start/);
  t.regex(reply!.text, /\/plan/);
  t.regex(reply!.text, /\/help/);
});

test('other text and unknown commands get a friendly fallback; group chats are ignored', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7040, first_name: 'T' }, 'hello there'));
  await bot.handleUpdate(textUpdate({ id: 7040, first_name: 'T', language_code: 'ru' }, '/unknown'));
  const replies = repliesTo(7040);
  t.is(replies.length, 2);
  t.regex(replies[0]!.text, /I don't understand messages yet/);
  t.regex(replies[1]!.text, /Я пока не понимаю/);

  await bot.handleUpdate(textUpdate({ id: 7041, first_name: 'G' }, '/start', 'group'));
  t.is(repliesTo(-7041).length, 0);
  t.is(await userRow(7041), null);
});

test('blocking and unblocking the bot (my_chat_member) toggles unreachableAt', async (t) => {
  await bot.handleUpdate(textUpdate({ id: 7050, first_name: 'B' }, '/start'));
  const memberUpdate = (status: 'kicked' | 'member'): Update =>
    ({
      update_id: updateId++,
      my_chat_member: {
        chat: { id: 7050, type: 'private', first_name: 'B' },
        from: { id: 7050, is_bot: false, first_name: 'B' },
        date: Math.floor(Date.now() / 1000),
        old_chat_member: { user: BOT_INFO, status: status === 'kicked' ? 'member' : 'kicked' },
        new_chat_member: { user: BOT_INFO, status, ...(status === 'kicked' ? { until_date: 0 } : {}) },
      },
    }) as Update;
  await bot.handleUpdate(memberUpdate('kicked'));
  t.truthy((await userRow(7050))!.unreachableAt);
  await bot.handleUpdate(memberUpdate('member'));
  t.is((await userRow(7050))!.unreachableAt, null);
});

test('the button is a plain link for an http Mini App URL and absent without one', async (t) => {
  const httpBot = botWith(configFor({ TELEGRAM_MINI_APP_URL: 'http://localhost:5173/' }));
  await httpBot.handleUpdate(textUpdate({ id: 7060, first_name: 'L' }, '/start'));
  t.deepEqual(repliesTo(7060)[0]!.replyMarkup, {
    inline_keyboard: [[{ text: 'Open the app', url: 'http://localhost:5173/' }]],
  });

  const bareBot = botWith(configFor({ TELEGRAM_MINI_APP_URL: '' }));
  await bareBot.handleUpdate(textUpdate({ id: 7061, first_name: 'N' }, '/start'));
  t.is(repliesTo(7061)[0]!.replyMarkup, undefined);
});

const PANEL_URL = 'https://coach.example/panel/';
const appRow = (text = 'Open the app') => [{ text, web_app: { url: MINI_APP_URL } }];

test('/start offers admins the trainer panel too; clients never see it', async (t) => {
  await seedUsers(forkForTenant(orm), [7101], { role: 'trainer' });
  await seedUsers(forkForTenant(orm), [7102], { role: 'support' });
  await seedUsers(forkForTenant(orm), [7103]);
  await bot.handleUpdate(textUpdate({ id: 7101, first_name: 'Tanya', language_code: 'en' }, '/start'));
  await bot.handleUpdate(textUpdate({ id: 7102, first_name: 'Света', language_code: 'ru' }, '/start'));
  await bot.handleUpdate(textUpdate({ id: 7103, first_name: 'Client' }, '/start'));

  t.deepEqual(repliesTo(7101)[0]!.replyMarkup, {
    inline_keyboard: [appRow(), [{ text: 'Trainer panel', web_app: { url: PANEL_URL } }]],
  });
  t.deepEqual(repliesTo(7102)[0]!.replyMarkup, {
    inline_keyboard: [
      appRow('Открыть приложение'),
      [{ text: 'Панель тренера', web_app: { url: PANEL_URL } }],
    ],
  });
  t.deepEqual(repliesTo(7103)[0]!.replyMarkup, { inline_keyboard: [appRow()] });
});

test('TELEGRAM_ADMINS are owners for the panel button, even on their very first /start', async (t) => {
  const ownerBot = botWith(configFor({ TELEGRAM_ADMINS: '7110' }));
  await ownerBot.handleUpdate(textUpdate({ id: 7110, first_name: 'Owner' }, '/start'));
  t.deepEqual(repliesTo(7110)[0]!.replyMarkup, {
    inline_keyboard: [appRow(), [{ text: 'Trainer panel', web_app: { url: PANEL_URL } }]],
  });
  await ownerBot.handleUpdate(textUpdate({ id: 7110, first_name: 'Owner' }, '/panel'));
  t.like(repliesTo(7110)[1], {
    text: 'Your trainer panel: applications, clients, metrics and broadcasts.',
    replyMarkup: { inline_keyboard: [[{ text: 'Trainer panel', web_app: { url: PANEL_URL } }]] },
  });
});

test('/panel gives admins the panel button and is an unknown command for everyone else', async (t) => {
  await seedUsers(forkForTenant(orm), [7120], { role: 'owner', languageCode: 'ru' });
  await bot.handleUpdate(textUpdate({ id: 7120, first_name: 'Анна' }, '/panel'));
  t.like(repliesTo(7120)[0], {
    text: 'Ваша панель тренера: заявки, клиенты, метрики и рассылки.',
    replyMarkup: { inline_keyboard: [[{ text: 'Панель тренера', web_app: { url: PANEL_URL } }]] },
  });
  await bot.handleUpdate(textUpdate({ id: 7121, first_name: 'Client' }, '/panel'));
  await seedUsers(forkForTenant(orm), [7122]);
  await bot.handleUpdate(textUpdate({ id: 7122, first_name: 'Client' }, '/panel'));
  for (const id of [7121, 7122]) {
    const [reply] = repliesTo(id);
    t.regex(reply!.text, /I don't understand messages yet/);
    t.is(reply!.replyMarkup, undefined);
  }
  t.is(await userRow(7121), null, '/panel registers nobody');
});

test('the panel URL: TELEGRAM_PANEL_URL, else next to the Mini App; http is a link, none says so', async (t) => {
  t.is(panelUrlFrom('https://coach.example/app/'), 'https://coach.example/panel/');
  t.is(panelUrlFrom('https://coach.example/app'), 'https://coach.example/panel/');
  t.is(panelUrlFrom('https://coach.example/coach/app/?x=1#y'), 'https://coach.example/coach/panel/');
  t.is(panelUrlFrom('https://coach.example/'), 'https://coach.example/panel/');
  t.is(panelUrlFrom('https://coach.example/mini-app/'), 'https://coach.example/panel/');
  t.is(panelUrlFrom(undefined), undefined);
  t.is(
    configFor({ TELEGRAM_PANEL_URL: 'https://panel.example/p' }).telegram.panelUrl,
    'https://panel.example/p',
  );

  await seedUsers(forkForTenant(orm), [7130, 7131], { role: 'owner' });
  const httpBot = botWith(configFor({ TELEGRAM_PANEL_URL: 'http://localhost:3000/panel/' }));
  await httpBot.handleUpdate(textUpdate({ id: 7130, first_name: 'L' }, '/panel'));
  t.deepEqual(repliesTo(7130)[0]!.replyMarkup, {
    inline_keyboard: [[{ text: 'Trainer panel', url: 'http://localhost:3000/panel/' }]],
  });
  const bareBot = botWith(configFor({ TELEGRAM_MINI_APP_URL: '' }));
  await bareBot.handleUpdate(textUpdate({ id: 7131, first_name: 'N' }, '/panel'));
  t.regex(repliesTo(7131)[0]!.text, /TELEGRAM_PANEL_URL/);
  t.is(repliesTo(7131)[0]!.replyMarkup, undefined);
  await bareBot.handleUpdate(textUpdate({ id: 7131, first_name: 'N' }, '/start'));
  t.is(repliesTo(7131)[1]!.replyMarkup, undefined);
});

test.serial('configureBot sets English and Russian commands and the web_app menu button', async (t) => {
  const before = fake.calls.length;
  await configureBot(bot, configuredDefaultTenant(configFor()));
  const calls = fake.calls.slice(before);
  const commands = calls.filter((call) => call.method === 'setMyCommands').map((call) => call.body);
  t.is(commands.length, 2);
  t.like(commands[0], { commands: [{ command: 'start' }, { command: 'plan' }, { command: 'help' }] });
  t.is((commands[0] as { language_code?: string }).language_code, undefined);
  t.like(commands[1], { language_code: 'ru', commands: [{ description: 'Начать и открыть приложение' }] });
  const menu = calls.find((call) => call.method === 'setChatMenuButton');
  t.deepEqual((menu!.body as { menu_button: unknown }).menu_button, {
    type: 'web_app',
    text: 'Open app',
    web_app: { url: MINI_APP_URL },
  });

  const from = fake.calls.length;
  await configureBot(bot, { miniAppUrl: 'http://localhost:5173/' });
  const reset = fake.calls.slice(from).find((call) => call.method === 'setChatMenuButton');
  t.deepEqual((reset!.body as { menu_button: unknown }).menu_button, { type: 'default' });
});

test.serial('a handler error (database down) is caught, logged and apologised for', async (t) => {
  // A closed ORM reconnects on demand; a server nobody listens on fails every query.
  const downOrm = await createOrm({ url: 'postgres://postgres@127.0.0.1:1/coach_down', poolMax: 1 });
  t.teardown(() => downOrm.close());
  const brokenBot = botWith(configFor(), downOrm);
  const logged = logs.length;

  await t.notThrowsAsync(brokenBot.handleUpdate(textUpdate({ id: 7070, first_name: 'E' }, '/start')));
  const failures = logs.slice(logged).filter((line) => line.includes('"bot_update_failed"'));
  t.is(failures.length, 1);
  t.regex(failures[0]!, /ECONNREFUSED/);
  t.regex(repliesTo(7070)[0]!.text, /Something went wrong on our side/);
});

test.serial('a Bot API failure is logged without the bot token', async (t) => {
  const unreachable = await startFakeTelegramBotApi({ token: TEST_BOT_TOKEN });
  const root = unreachable.apiRoot;
  await unreachable.close(); // nothing listens there now: every call is a connection error
  const offlineBot = botWith(configFor({ TELEGRAM_API_ROOT: root }));
  const logged = logs.length;

  await t.notThrowsAsync(offlineBot.handleUpdate(textUpdate({ id: 7080, first_name: 'X' }, '/help')));
  const lines = logs.slice(logged).join('\n');
  t.regex(lines, /bot_update_failed/);
  t.regex(lines, /ECONNREFUSED/);
  t.false(lines.includes(TEST_BOT_TOKEN));
  t.false(lines.includes(TEST_BOT_TOKEN.split(':')[1]!));
});

test.serial(
  'the bot process configures the bot, drops the webhook, long-polls and stops cleanly',
  async (t) => {
    const polling = await startFakeTelegramBotApi({ token: TEST_BOT_TOKEN });
    t.teardown(() => polling.close());
    const processLogs: string[] = [];
    const logger = createLogger('debug', {
      write: (line: string) => void processLogs.push(line),
    } as pino.DestinationStream);
    const botProcess = createBotProcess({
      config: configFor({ TELEGRAM_API_ROOT: polling.apiRoot }),
      orm,
      logger,
      metrics: createMetrics(),
    });
    await botProcess.start();
    const methods = () => polling.calls.map((call) => call.method);
    await waitFor('long polling', () => methods().includes('getUpdates'));
    t.deepEqual(methods().slice(0, 5), [
      'getMe',
      'setMyCommands',
      'setMyCommands',
      'setChatMenuButton',
      'deleteWebhook',
    ]);
    const getUpdates = polling.calls.find((call) => call.method === 'getUpdates')!;
    t.deepEqual((getUpdates.body as { allowed_updates: string[] }).allowed_updates, [
      'message',
      'callback_query',
      'my_chat_member',
      'pre_checkout_query',
    ]);
    await botProcess.stop();
    // A pending getUpdates would hold for its 50 s long poll, and stop() would give up on it.
    t.false(
      processLogs.some((line) => line.includes('did not end in time')),
      'stop() aborts the pending getUpdates instead of waiting it out',
    );
    t.true(processLogs.some((line) => line.includes('"bot stopped"')));
    const after = polling.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    t.is(polling.calls.length, after, 'no polling after stop()');
  },
);
