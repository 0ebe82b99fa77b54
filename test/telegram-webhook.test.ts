import test from 'ava';
import { TelegramUser } from '../src/db/entities/index.ts';
import { startFakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import { expectError } from './helpers/expect-error.ts';
import { freePort } from './helpers/free-port.ts';
import { TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const WEBHOOK_URL = 'https://coach.example/telegram/webhook';
const SECRET = 'whsec-test-123';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    env: { TELEGRAM_WEBHOOK_URL: WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET: SECRET },
    worker: false,
  });
});
test.after.always(async () => {
  await system?.stop();
});

let updateId = 100;
function startUpdate(id: number, firstName: string, languageCode = 'en') {
  return {
    update_id: updateId++,
    message: {
      message_id: updateId,
      date: Math.floor(Date.now() / 1000),
      chat: { id, type: 'private', first_name: firstName },
      from: { id, is_bot: false, first_name: firstName, language_code: languageCode },
      text: '/start',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
    },
  };
}

function postUpdate(body: string, secret?: string, contentType = 'application/json') {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (secret !== undefined) headers['x-telegram-bot-api-secret-token'] = secret;
  return system.request('/telegram/webhook', { method: 'POST', headers, body });
}

test('at start the web process registered the webhook with its secret, updates and connection cap', (t) => {
  const setWebhook = system.telegram.calls.find((call) => call.method === 'setWebhook');
  t.truthy(setWebhook, 'setWebhook was called');
  t.like(setWebhook!.body, {
    url: WEBHOOK_URL,
    secret_token: SECRET,
    allowed_updates: ['message', 'callback_query', 'my_chat_member', 'pre_checkout_query'],
    max_connections: 40,
    drop_pending_updates: false,
  });
  const methods = system.telegram.calls.map((call) => call.method);
  t.true(methods.includes('setMyCommands'));
  t.true(methods.includes('setChatMenuButton'));
  t.false(methods.includes('getUpdates'), 'webhook mode never long-polls');
});

for (const [name, secret] of [
  ['no', undefined],
  ['a wrong', 'nope'],
  ['a same-length but wrong', 'whsec-test-124'],
  ['an empty', ''],
] as const) {
  test(`${name} secret header is refused with 401 and the update is not handled`, async (t) => {
    const before = system.telegram.sentMessages.length;
    const response = await postUpdate(JSON.stringify(startUpdate(8001, 'Mallory')), secret);
    t.is(response.status, 401);
    const body = await response.json();
    t.is(body.error.code, 'invalid_webhook_secret');
    t.is(typeof body.error.message, 'string');
    t.is(system.telegram.sentMessages.length, before);
    t.is(await system.em().findOne(TelegramUser, { telegramId: '8001' }), null);
  });
}

test('a rejected secret is logged as a mismatch, never with the secret itself', async (t) => {
  await postUpdate(JSON.stringify(startUpdate(8002, 'Eve')), 'a-guess-that-should-not-be-logged');
  await new Promise((resolve) => setTimeout(resolve, 20));
  const lines = system.logs.join('\n');
  t.regex(lines, /telegram_webhook_secret_mismatch/);
  t.false(lines.includes('a-guess-that-should-not-be-logged'));
  t.false(lines.includes(SECRET));
});

test('a body that is not a Telegram update is a 400 (415 when not JSON at all)', async (t) => {
  const malformed = await postUpdate('{"update_id": 1,', SECRET);
  t.is(malformed.status, 400);
  t.is((await malformed.json()).error.code, 'malformed_json');

  for (const body of ['{}', '{"update_id":"1"}', '[1,2]', '{"update_id":1.5}']) {
    const response = await postUpdate(body, SECRET);
    t.is(response.status, 400, body);
    t.is((await response.json()).error.code, 'validation_failed', body);
  }
  const text = await postUpdate('update_id=1', SECRET, 'text/plain');
  t.is(text.status, 415);
  t.is((await text.json()).error.code, 'unsupported_media_type');
});

test('a valid /start update with the right secret is handled: 200, user registered, greeting sent', async (t) => {
  const response = await postUpdate(JSON.stringify(startUpdate(8010, 'Ольга', 'ru')), SECRET);
  t.is(response.status, 200);
  t.deepEqual(await response.json(), { ok: true });

  const greeting = system.telegram.sentMessages.find((message) => message.chatId === '8010');
  t.truthy(greeting, 'the reply was sent before the webhook answered');
  t.regex(greeting!.text, /^Привет, Ольга!/);
  t.deepEqual(greeting!.replyMarkup, {
    inline_keyboard: [[{ text: 'Открыть приложение', web_app: { url: 'https://coach.example/app' } }]],
  });
  const user = await system.em().findOne(TelegramUser, { telegramId: '8010' });
  t.is(user?.firstName, 'Ольга');
  t.is(user?.languageCode, 'ru');
});

test('an update the bot does not handle is still acknowledged with 200', async (t) => {
  const response = await postUpdate(JSON.stringify({ update_id: updateId++, edited_message: {} }), SECRET);
  t.is(response.status, 200);
});

test('without TELEGRAM_WEBHOOK_URL there is no webhook endpoint (404)', async (t) => {
  const polling = await startTestSystem({ worker: false });
  t.teardown(() => polling.stop());
  const response = await polling.request('/telegram/webhook', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify(startUpdate(8020, 'Nobody')),
  });
  t.is(response.status, 404);
  t.false(polling.telegram.calls.some((call) => call.method === 'setWebhook'));
});

test('while getMe has never succeeded an update gets 503; once Telegram is back the same update is handled', async (t) => {
  // The Bot API is unreachable when the web process starts: nothing listens on this port yet.
  const port = await freePort();
  const offline = await startTestSystem({
    worker: false,
    env: {
      TELEGRAM_WEBHOOK_URL: WEBHOOK_URL,
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      TELEGRAM_API_ROOT: `http://127.0.0.1:${port}`,
    },
  });
  t.teardown(() => offline.stop());
  t.true(offline.logs.some((line) => line.includes('telegram_webhook_setup_failed')));

  const update = JSON.stringify(startUpdate(8030, 'Retry'));
  const post = () =>
    offline.request('/telegram/webhook', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: update,
    });
  const unavailable = await post();
  await expectError(t, unavailable, 503, 'telegram_unavailable');
  t.truthy(unavailable.headers.get('retry-after'), 'Telegram is told to redeliver later');
  t.is(await offline.em().findOne(TelegramUser, { telegramId: '8030' }), null, 'update not handled');

  // Telegram becomes reachable: its redelivery of the same update is handled.
  const telegram = await startFakeTelegramBotApi({ port, token: TEST_BOT_TOKEN });
  t.teardown(() => telegram.close());
  const handled = await post();
  t.is(handled.status, 200);
  t.deepEqual(await handled.json(), { ok: true });
  t.true(telegram.calls.some((call) => call.method === 'getMe'));
  const greeting = telegram.sentMessages.find((message) => message.chatId === '8030');
  t.regex(greeting?.text ?? '', /^Hi, Retry!/);
  t.is((await offline.em().findOne(TelegramUser, { telegramId: '8030' }))?.firstName, 'Retry');
});
