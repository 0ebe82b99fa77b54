import test from 'ava';
import { type FakeTelegramBotApiOptions, startFakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import {
  TelegramBadRequestError,
  TelegramChatNotFoundError,
  TelegramNetworkError,
  TelegramRateLimitedError,
  TelegramServerError,
  TelegramUnauthorizedError,
  TelegramUserBlockedError,
} from '../src/telegram/telegram-errors.ts';
import { createTelegramSender, splitMessageText } from '../src/telegram/telegram-sender.ts';

const CHAT = '5000000001';

async function setup(
  t: { teardown(fn: () => Promise<void>): void },
  fakeOptions: FakeTelegramBotApiOptions = {},
  timeoutMs = 5000,
) {
  const fake = await startFakeTelegramBotApi(fakeOptions);
  t.teardown(() => fake.close());
  const sender = createTelegramSender({ botToken: fake.token, apiRoot: fake.apiRoot, timeoutMs });
  return { fake, sender };
}

test('sends a message with a web_app button for an https URL', async (t) => {
  const { fake, sender } = await setup(t);
  const url = 'https://coach.example.com/app?survey=1';
  const { messageId } = await sender.sendMessage({
    chatId: CHAT,
    text: 'Your plan is ready',
    openAppButton: { text: 'Open', url },
  });
  t.is(fake.sentMessages.length, 1);
  const [sent] = fake.sentMessages;
  t.is(sent?.messageId, messageId);
  t.is(sent?.chatId, CHAT);
  t.is(sent?.text, 'Your plan is ready');
  t.deepEqual(sent?.replyMarkup, { inline_keyboard: [[{ text: 'Open', web_app: { url } }]] });
});

test('falls back to a plain url button for an http URL (local dev)', async (t) => {
  const { fake, sender } = await setup(t);
  const url = 'http://127.0.0.1:3000/app';
  await sender.sendMessage({ chatId: CHAT, text: 'hi', openAppButton: { text: 'Open', url } });
  t.deepEqual(fake.sentMessages[0]?.replyMarkup, { inline_keyboard: [[{ text: 'Open', url }]] });
});

test('splits a 5000-char text into 2 messages with the button on the last only', async (t) => {
  const { fake, sender } = await setup(t);
  const paragraphs = Array.from({ length: 50 }, (_, i) => `Day ${i}: ${'squat '.repeat(15).trim()}.`);
  const text = paragraphs.join('\n\n').padEnd(5000, ' x').slice(0, 5000);
  t.is(text.length, 5000);
  const { messageId } = await sender.sendMessage({
    chatId: CHAT,
    text,
    openAppButton: { text: 'Open', url: 'https://coach.example.com/app' },
  });
  t.is(fake.sentMessages.length, 2);
  const [first, last] = fake.sentMessages;
  t.true((first?.text.length ?? 0) <= 4096);
  t.is(first?.replyMarkup, undefined);
  t.truthy(last?.replyMarkup);
  t.is(last?.messageId, messageId);
  const squash = (s: string) => s.replace(/\s+/g, '');
  t.is(squash(`${first?.text}${last?.text}`), squash(text));
  t.is(fake.rateLimitHits, 0, 'parts are paced to the per-chat limit');
});

test('splitMessageText prefers paragraph, then line, then space boundaries', (t) => {
  t.deepEqual(splitMessageText('aaaa\n\nbbbb cc', 10), ['aaaa', 'bbbb cc']);
  t.deepEqual(splitMessageText('aaaaaa\nbbbbbb', 10), ['aaaaaa', 'bbbbbb']);
  t.deepEqual(splitMessageText('aaaa bbbb cccc', 10), ['aaaa bbbb', 'cccc']);
  t.deepEqual(splitMessageText('a'.repeat(25), 10), ['a'.repeat(10), 'a'.repeat(10), 'a'.repeat(5)]);
  t.deepEqual(
    splitMessageText(`${'a'.repeat(9)}😀b`, 10),
    ['a'.repeat(9), '😀b'],
    'no split inside an emoji',
  );
  t.deepEqual(splitMessageText('short'), ['short']);
});

test('blocked user → TelegramUserBlockedError', async (t) => {
  const { fake, sender } = await setup(t);
  fake.blockChat(CHAT);
  await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramUserBlockedError,
    message: /blocked by the user/,
  });
});

test('deactivated user → TelegramUserBlockedError', async (t) => {
  const { fake, sender } = await setup(t);
  fake.deactivateChat(CHAT);
  await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramUserBlockedError,
    message: /deactivated/,
  });
});

test('unknown chat → TelegramChatNotFoundError', async (t) => {
  const { fake, sender } = await setup(t);
  fake.setChatNotFound(CHAT);
  await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramChatNotFoundError,
  });
});

test('empty text → TelegramBadRequestError', async (t) => {
  const { sender } = await setup(t);
  const err = await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: '' }), {
    instanceOf: TelegramBadRequestError,
    message: /message text is empty/,
  });
  t.false(err instanceof TelegramUnauthorizedError);
});

test('429 → TelegramRateLimitedError with retry_after in ms', async (t) => {
  const { fake, sender } = await setup(t);
  fake.failNext(1, 'rate_limited', { retryAfterSeconds: 7 });
  const err = await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramRateLimitedError,
  });
  t.is(err?.retryAfterMs, 7000);
  t.is(fake.rateLimitHits, 1);
});

test('500 → TelegramServerError', async (t) => {
  const { fake, sender } = await setup(t);
  fake.failNext(1, 'server_error');
  await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), { instanceOf: TelegramServerError });
  await t.notThrowsAsync(
    sender.sendMessage({ chatId: '5000000002', text: 'hi' }),
    'only one failure injected',
  );
});

test('non-JSON answer → TelegramNetworkError that may have been delivered', async (t) => {
  const { fake, sender } = await setup(t);
  fake.failNext(1, 'garbage');
  const err = await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramNetworkError,
  });
  t.true(err?.mayHaveBeenDelivered);
  t.notRegex(err?.message ?? '', new RegExp(fake.token.split(':')[1]!), 'token is redacted');
});

test('hung Bot API → times out with TelegramNetworkError, mayHaveBeenDelivered', async (t) => {
  const { fake, sender } = await setup(t, {}, 1_000);
  fake.failNext(1, 'hang');
  const started = Date.now();
  const err = await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramNetworkError,
  });
  const elapsed = Date.now() - started;
  t.true(err?.mayHaveBeenDelivered);
  // The fake never answers: only the timeout can end the call (the upper bound just means "ended").
  t.true(elapsed >= 950 && elapsed < 15_000, `took ${elapsed} ms`);
});

test('connection refused → TelegramNetworkError, certainly not delivered', async (t) => {
  const fake = await startFakeTelegramBotApi();
  await fake.close();
  const sender = createTelegramSender({ botToken: fake.token, apiRoot: fake.apiRoot, timeoutMs: 2000 });
  const err = await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramNetworkError,
  });
  t.false(err?.mayHaveBeenDelivered);
  t.is(err?.code, 'ECONNREFUSED');
});

test('wrong token → TelegramUnauthorizedError (a permanent TelegramBadRequestError)', async (t) => {
  const fake = await startFakeTelegramBotApi();
  t.teardown(() => fake.close());
  const sender = createTelegramSender({ botToken: '42:wrong', apiRoot: fake.apiRoot, timeoutMs: 2000 });
  const err = await t.throwsAsync(sender.sendMessage({ chatId: CHAT, text: 'hi' }), {
    instanceOf: TelegramUnauthorizedError,
  });
  t.true(err instanceof TelegramBadRequestError);
  t.is(fake.sentMessages.length, 0);
});

test('fake enforces the per-chat limit: 2nd message within a second gets 429', async (t) => {
  const { fake, sender } = await setup(t);
  const results = [];
  for (const text of ['one', 'two', 'three']) {
    results.push(await sender.sendMessage({ chatId: CHAT, text }).catch((err: unknown) => err));
  }
  t.false(results[0] instanceof Error);
  t.true(results[1] instanceof TelegramRateLimitedError);
  t.is((results[1] as TelegramRateLimitedError).retryAfterMs, 1000);
  t.true(results[2] instanceof TelegramRateLimitedError);
  t.deepEqual(
    fake.sentMessages.map((m) => m.text),
    ['one'],
  );
  t.is(fake.rateLimitHits, 2);
  await t.notThrowsAsync(sender.sendMessage({ chatId: '5000000002', text: 'other chat' }));
});

test('fake enforces the global limit', async (t) => {
  const { fake, sender } = await setup(t, { globalPerSecond: 2, perChatPerSecond: 0 });
  await sender.sendMessage({ chatId: '1', text: 'a' });
  await sender.sendMessage({ chatId: '2', text: 'b' });
  await t.throwsAsync(sender.sendMessage({ chatId: '3', text: 'c' }), {
    instanceOf: TelegramRateLimitedError,
  });
  t.is(fake.sentMessages.length, 2);
});

test('fake speaks urlencoded and multipart, and answers bot setup methods', async (t) => {
  const { fake } = await setup(t);
  const base = `${fake.apiRoot}/bot${fake.token}`;
  const form = await fetch(`${base}/sendMessage`, {
    method: 'POST',
    body: new URLSearchParams({ chat_id: '7', text: 'форма' }),
  }).then((r) => r.json());
  t.like(form, { ok: true, result: { text: 'форма', chat: { id: 7, type: 'private' } } });

  const multipart = new FormData();
  multipart.set('chat_id', '8');
  multipart.set('text', 'multi ✓');
  multipart.set('reply_markup', JSON.stringify({ inline_keyboard: [[{ text: 'x', url: 'https://a.b' }]] }));
  const mp = await fetch(`${base}/sendMessage`, { method: 'POST', body: multipart }).then((r) => r.json());
  t.like(mp, { ok: true, result: { text: 'multi ✓' } });
  t.deepEqual(fake.sentMessages[1]?.replyMarkup, { inline_keyboard: [[{ text: 'x', url: 'https://a.b' }]] });

  const me = await fetch(`${base}/getMe`).then((r) => r.json());
  t.like(me, { ok: true, result: { is_bot: true } });
  for (const method of ['setMyCommands', 'setChatMenuButton', 'setWebhook', 'deleteWebhook']) {
    t.like(await fetch(`${base}/${method}`, { method: 'POST' }).then((r) => r.json()), {
      ok: true,
      result: true,
    });
  }
  const started = Date.now();
  const updates = await fetch(`${base}/getUpdates?timeout=30`).then((r) => r.json());
  t.deepEqual(updates, { ok: true, result: [] });
  t.true(Date.now() - started >= 900, 'long polling waits instead of spinning');

  const tooLong = await fetch(`${base}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: '9', text: 'x'.repeat(4097) }),
  });
  t.is(tooLong.status, 400);
  t.like(await tooLong.json(), { ok: false, description: 'Bad Request: message is too long' });
});
