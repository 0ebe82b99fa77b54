import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeDelivery, Params, Reply } from './bot-api-request.ts';
import { createUpdateOutbox, fail, ok, parseMarkup, readParams } from './bot-api-request.ts';
import { createFakePayments, type FakeTelegramPayments } from './fake-telegram-payments.ts';

/**
 * A local stand-in for https://api.telegram.org: tests point the real telegraf client at it, and
 * `npm start` without a bot token uses it as a sandbox. It speaks the Bot API wire format
 * (`/bot<token>/<method>`, JSON / urlencoded / multipart bodies, `{ ok, result }` answers) and
 * enforces Telegram's flood limits, so pacing bugs show up locally rather than in production. It
 * sends updates the way Telegram does (setWebhook, else getUpdates) and takes Stars payments.
 */

export type FakeFailure = 'server_error' | 'hang' | 'rate_limited' | 'garbage' | 'hang_after_delivery';

export interface FakeSentMessage {
  chatId: string;
  text: string;
  replyMarkup?: unknown;
  messageId: number;
  at: number;
}

export interface FakeTelegramBotApiOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  token?: string;
  /** sendMessage calls per sliding second across all chats; 0 or Infinity disables. Default 30. */
  globalPerSecond?: number;
  /** sendMessage calls per sliding second to one chat; 0 or Infinity disables. Default 1. */
  perChatPerSecond?: number;
  onMessage?: (message: FakeSentMessage) => void;
  /** sentMessages and calls keep only this many latest entries, so a long sandbox run stays bounded. */
  maxRecorded?: number;
}

export interface FakeTelegramBotApi {
  /** e.g. http://127.0.0.1:53124 — no trailing slash, like config's TELEGRAM_API_ROOT. */
  readonly apiRoot: string;
  readonly token: string;
  readonly sentMessages: FakeSentMessage[];
  readonly calls: Array<{ method: string; body: unknown }>;
  /** 403 "bot was blocked by the user" for this chat from now on. */
  blockChat(chatId: string): void;
  /** 403 "user is deactivated" (account deleted). */
  deactivateChat(chatId: string): void;
  /** 400 "chat not found". */
  setChatNotFound(chatId: string): void;
  /**
   * The next n matching requests fail. By default any method except getUpdates matches — a
   * sandbox poller would otherwise swallow failures meant for sendMessage. 'hang' never answers;
   * 'hang_after_delivery' records the message first (the "did it go out?" case).
   */
  failNext(
    n: number,
    behaviour: FakeFailure,
    options?: { method?: string; retryAfterSeconds?: number },
  ): void;
  /** How many 429 answers were given, injected ones included. */
  readonly rateLimitHits: number;
  /** Stars payments: the user's side of an invoice, renewals, refunds (fake-telegram-payments.ts). */
  readonly payments: FakeTelegramPayments;
  /**
   * Sends updates to this URL instead of setWebhook's: tests serve the bot on 127.0.0.1, not on the
   * public URL it registers. The secret header defaults to the secret_token given to setWebhook.
   */
  deliverUpdatesTo(url: string, secretToken?: string): void;
  /** Every webhook delivery attempt, in order, redeliveries included. */
  readonly deliveries: readonly FakeDelivery[];
  /** Stops listening and destroys every open socket, hung requests included. */
  close(): Promise<void>;
}

type ChatState = 'blocked' | 'deactivated' | 'not_found';

const DEFAULT_TOKEN = '1000000001:AAFakeSandboxTokenForLocalDevelopment';
const TEXT_LIMIT = 4096;
const SETUP_METHODS =
  'setMyCommands deleteMyCommands setChatMenuButton setMyName setMyDescription setMyShortDescription answerCallbackQuery sendChatAction';
/** Methods the sandbox answers without side effects, keyed lower-case (the Bot API ignores case). */
const STATIC_RESULTS = new Map<string, unknown>([
  ...SETUP_METHODS.split(' ').map((m) => [m.toLowerCase(), true] as const),
  ['getmycommands', []],
  ['getchatmenubutton', { type: 'default' }],
]);

export async function startFakeTelegramBotApi(
  options: FakeTelegramBotApiOptions = {},
): Promise<FakeTelegramBotApi> {
  const token = options.token ?? DEFAULT_TOKEN;
  const globalLimit = limitOf(options.globalPerSecond ?? 30);
  const perChatLimit = limitOf(options.perChatPerSecond ?? 1);
  const maxRecorded = options.maxRecorded ?? 10_000;
  const sentMessages: FakeSentMessage[] = [];
  const calls: Array<{ method: string; body: unknown }> = [];
  const chatStates = new Map<string, ChatState>();
  const failures: Array<{ behaviour: FakeFailure; method?: string; retryAfterSeconds: number }> = [];
  const globalHits: number[] = [];
  const chatHits = new Map<string, number[]>();
  let nextMessageId = 1;
  let rateLimitHits = 0;

  const record = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > maxRecorded) list.splice(0, list.length - maxRecorded);
  };
  const outbox = createUpdateOutbox(record);
  const payments = createFakePayments(outbox, () => nextMessageId++);

  function tooManyRequests(retryAfter: number): Reply {
    rateLimitHits++;
    return fail(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
  }

  /** Sliding one-second windows; returns retry_after seconds when over a limit, else counts the hit. */
  function takeSendSlot(chatId: string, now: number): number | undefined {
    const perChat = chatHits.get(chatId) ?? [];
    for (const hits of [globalHits, perChat]) while (hits.length > 0 && hits[0]! <= now - 1000) hits.shift();
    let waitMs = 0;
    if (globalHits.length >= globalLimit) waitMs = globalHits[globalHits.length - globalLimit]! + 1000 - now;
    if (perChat.length >= perChatLimit) {
      waitMs = Math.max(waitMs, perChat[perChat.length - perChatLimit]! + 1000 - now);
    }
    if (waitMs > 0) {
      if (perChat.length === 0) chatHits.delete(chatId);
      return Math.max(1, Math.ceil(waitMs / 1000));
    }
    globalHits.push(now);
    perChat.push(now);
    chatHits.set(chatId, perChat);
    return undefined;
  }

  function sendMessage(params: Params): Reply {
    const chatId = params.chat_id === undefined || params.chat_id === null ? '' : String(params.chat_id);
    if (chatId === '') return fail(400, 'Bad Request: chat_id is empty');
    const text = params.text;
    if (typeof text !== 'string' || text.trim() === '')
      return fail(400, 'Bad Request: message text is empty');
    if (text.length > TEXT_LIMIT) return fail(400, 'Bad Request: message is too long');
    const markup = parseMarkup(params.reply_markup);
    if (markup instanceof Error) return fail(400, `Bad Request: ${markup.message}`);
    if (!/^-?\d{1,20}$/.test(chatId)) return fail(400, 'Bad Request: chat not found');

    const now = Date.now();
    const retryAfter = takeSendSlot(chatId, now);
    if (retryAfter !== undefined) return tooManyRequests(retryAfter);
    const state = chatStates.get(chatId);
    if (state === 'blocked') return fail(403, 'Forbidden: bot was blocked by the user');
    if (state === 'deactivated') return fail(403, 'Forbidden: user is deactivated');
    if (state === 'not_found') return fail(400, 'Bad Request: chat not found');

    const message: FakeSentMessage = { chatId, text, messageId: nextMessageId++, at: now };
    if (markup !== undefined) message.replyMarkup = markup;
    record(sentMessages, message);
    try {
      options.onMessage?.(message);
    } catch (err) {
      // An observer's bug must not turn into a Bot API failure the sender would then "handle".
      process.emitWarning(`fake Telegram onMessage threw: ${String(err)}`);
    }
    const chat = { id: Number(chatId), type: chatId.startsWith('-') ? 'supergroup' : 'private' };
    return ok({
      message_id: message.messageId,
      date: Math.floor(now / 1000),
      chat,
      text,
      reply_markup: markup,
    });
  }

  function dispatch(method: string, params: Params, res: ServerResponse): Reply | Promise<Reply> {
    const name = method.toLowerCase(); // Bot API method names are case-insensitive
    if (name === 'sendmessage') return sendMessage(params);
    if (name === 'getupdates') return outbox.getUpdates(params, res);
    if (name === 'getme') return ok(botUser(token));
    if (STATIC_RESULTS.has(name)) return ok(STATIC_RESULTS.get(name));
    return (
      outbox.handle(name, params) ?? payments.handle(name, params) ?? fail(404, 'Not Found: method not found')
    );
  }

  function takeFailure(method: string) {
    const name = method.toLowerCase();
    const index = failures.findIndex((f) =>
      f.method ? f.method.toLowerCase() === name : name !== 'getupdates',
    );
    return index < 0 ? undefined : failures.splice(index, 1)[0];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const read = await readParams(req);
    const route = /^\/bot([^/]+)\/([A-Za-z]+)\/?$/.exec(url.pathname);
    if (!route || (req.method !== 'GET' && req.method !== 'POST')) return send(res, fail(404, 'Not Found'));
    if (read instanceof Error) return send(res, fail(400, `Bad Request: ${read.message}`));
    const requestToken = route[1]!;
    const method = route[2]!;
    const params: Params = { ...Object.fromEntries(url.searchParams), ...read };
    record(calls, { method, body: params });
    if (requestToken !== token) return send(res, fail(401, 'Unauthorized'));

    const failure = takeFailure(method);
    switch (failure?.behaviour) {
      case 'hang':
        return; // close() destroys the socket
      case 'server_error':
        return send(res, fail(500, 'Internal Server Error'));
      case 'rate_limited':
        return send(res, tooManyRequests(failure.retryAfterSeconds));
      case 'garbage':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>upstream hiccup</body></html>');
        return;
    }
    const reply = await dispatch(method, params, res);
    if (failure?.behaviour === 'hang_after_delivery') return;
    send(res, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, fail(500, `Internal Server Error: ${String(err)}`));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token,
    sentMessages,
    calls,
    blockChat: (chatId) => void chatStates.set(String(chatId), 'blocked'),
    deactivateChat: (chatId) => void chatStates.set(String(chatId), 'deactivated'),
    setChatNotFound: (chatId) => void chatStates.set(String(chatId), 'not_found'),
    failNext(n, behaviour, failOptions = {}) {
      const retryAfterSeconds = failOptions.retryAfterSeconds ?? 1;
      for (let i = 0; i < n; i++) failures.push({ behaviour, method: failOptions.method, retryAfterSeconds });
    },
    get rateLimitHits() {
      return rateLimitHits;
    },
    payments,
    deliverUpdatesTo: (url, secretToken) => outbox.deliverTo(url, secretToken),
    deliveries: outbox.deliveries,
    close() {
      closing ??= new Promise<void>((resolve) => {
        payments.close(); // a user still waiting on a pre-checkout answer gives up
        outbox.close(); // ends long polls and webhook retries
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** 0, negative or Infinity means "no limit". */
function limitOf(perSecond: number): number {
  return perSecond > 0 ? perSecond : Number.POSITIVE_INFINITY;
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
}

function botUser(token: string) {
  const id = Number(token.split(':')[0]);
  return {
    id: Number.isSafeInteger(id) ? id : 1,
    is_bot: true,
    first_name: 'Coach Sandbox',
    username: 'coach_sandbox_bot',
    can_join_groups: false,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  };
}
