import { setTimeout as sleep } from 'node:timers/promises';
import { Telegram } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { boundedBotApiCall, telegrafApiRoot } from './bot-api-call.ts';
import { TelegramPartialDeliveryError, TelegramRateLimitedError } from './telegram-errors.ts';

/** Bot API limit for sendMessage text, counted in UTF-16 code units like String#length. */
export const TELEGRAM_TEXT_LIMIT = 4096;

export interface TelegramSender {
  /**
   * Sends `text` to a private chat, split into several messages when it exceeds 4096 characters.
   * Resolves with the id of the last message. Rejects with the classes from telegram-errors.ts.
   * The sender never retries a failed first message — the queue owns retries.
   */
  sendMessage(input: SendMessageInput): Promise<{ messageId: number }>;
}

export interface SendMessageInput {
  /** Telegram chat id as a decimal string: ids exceed 32 bits, and the Bot API accepts strings. */
  chatId: string;
  text: string;
  /** Opens the Mini App; attached to the last message only. */
  openAppButton?: { text: string; url: string };
  /**
   * Wraps the HTTP call of every part (index 0 is the first), instead of the fixed interval
   * between parts, so a caller that paces sends (global and per-chat limits) can hold a slot for
   * exactly the duration of each request.
   */
  pace?: <T>(partIndex: number, send: () => Promise<T>) => Promise<T>;
}

export interface TelegramSenderOptions {
  botToken: string;
  apiRoot: string;
  /** Per HTTP request (each part of a split message gets its own budget). */
  timeoutMs: number;
  /**
   * Pause between the parts of a split message. Telegram allows about one message per second
   * per chat; sending the parts back to back gets the second one a 429.
   */
  partIntervalMs?: number;
}

/** A follow-up part that hits flood control is waited out at most this long before giving up. */
const MAX_PART_RETRY_WAIT_MS = 30_000;
const MAX_PART_ATTEMPTS = 3;

export function createTelegramSender(options: TelegramSenderOptions): TelegramSender {
  // webhookReply only matters inside a webhook handler; off, so every call is a real request.
  const telegram = new Telegram(options.botToken, {
    apiRoot: telegrafApiRoot(options.apiRoot),
    webhookReply: false,
  });
  const partIntervalMs = options.partIntervalMs ?? 1000;

  async function sendPart(chatId: string, text: string, button?: InlineKeyboardButton): Promise<number> {
    const payload = {
      chat_id: chatId,
      text,
      ...(button ? { reply_markup: { inline_keyboard: [[button]] } } : {}),
    };
    const message = await boundedBotApiCall(options.timeoutMs, (signal) =>
      telegram.callApi('sendMessage', payload, { signal }),
    );
    return message.message_id;
  }

  return {
    async sendMessage({ chatId, text, openAppButton, pace }) {
      const parts = splitMessageText(text);
      const button = openAppButton ? toInlineButton(openAppButton) : undefined;
      let messageId = 0;
      for (const [index, part] of parts.entries()) {
        const isLast = index === parts.length - 1;
        const partButton = isLast ? button : undefined;
        if (index === 0) {
          messageId = await (pace
            ? pace(0, () => sendPart(chatId, part, partButton))
            : sendPart(chatId, part, partButton));
          continue;
        }
        if (!pace) await sleep(partIntervalMs);
        const send = () => sendPart(chatId, part, partButton);
        try {
          messageId = await sendFollowUpPart(pace ? () => pace(index, send) : send);
        } catch (error) {
          throw new TelegramPartialDeliveryError(index, error as Error);
        }
      }
      return { messageId };
    },
  };
}

/**
 * Once the first part is out, a failure can no longer be retried by the queue without sending
 * that part twice, so flood control on later parts is waited out here. Other errors still
 * propagate — the earlier parts have been delivered by then.
 */
async function sendFollowUpPart(send: () => Promise<number>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      const retryable =
        err instanceof TelegramRateLimitedError &&
        err.retryAfterMs <= MAX_PART_RETRY_WAIT_MS &&
        attempt < MAX_PART_ATTEMPTS;
      if (!retryable) throw err;
      await sleep(err.retryAfterMs);
    }
  }
}

/**
 * web_app buttons accept only https URLs (Telegram answers 400 otherwise). A local dev server on
 * http gets a plain link button instead, which opens in the browser rather than as a Mini App.
 */
function toInlineButton(button: { text: string; url: string }): InlineKeyboardButton {
  if (button.url.startsWith('https://')) return { text: button.text, web_app: { url: button.url } };
  return { text: button.text, url: button.url };
}

/**
 * Splits text into chunks of at most `limit` code units, preferring paragraph breaks, then line
 * breaks, then spaces, and only then a hard cut. The whitespace at a cut is dropped because
 * Telegram trims each message anyway.
 */
export function splitMessageText(text: string, limit = TELEGRAM_TEXT_LIMIT): string[] {
  const parts: string[] = [];
  // Trimming up front guarantees every chunk starts with a visible character, so a cut at
  // whitespace never produces an empty message.
  let rest = text.length > limit ? text.trim() : text;
  while (rest.length > limit) {
    const cut = findCut(rest, limit);
    const head = rest.slice(0, cut).trimEnd();
    parts.push(head);
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit + 1);
  // A break in the first half would leave a tiny message; a finer boundary later is better.
  const minimum = Math.floor(limit / 2);
  for (const separator of ['\n\n', '\n']) {
    const at = window.lastIndexOf(separator, limit - separator.length);
    if (at >= minimum) return at;
  }
  const space = Math.max(window.lastIndexOf(' ', limit), window.lastIndexOf('\t', limit));
  if (space > 0) return space;
  // No whitespace at all: hard cut, but never between the halves of a surrogate pair (emoji).
  const code = text.charCodeAt(limit - 1);
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}
