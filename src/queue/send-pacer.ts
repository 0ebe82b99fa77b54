import type { Redis } from 'ioredis';
import { REDIS_NOW_MS } from '../util/redis-clock.ts';

/**
 * Spaces one bot's Telegram sends across every worker process: about `rate` messages per second
 * overall and at most one message per chat per second. Telegram counts these limits per bot, so
 * every key carries the bot id: each tenant's bot has budgets of its own. BullMQ's open-source
 * limiter is queue-wide and counts fetches, not sends, so the limits live here, in Redis (Lua
 * scripts on Redis's own clock).
 *
 * Two layers:
 * - reserve(): planned send times (a bot-wide slot every 1000/rate ms, a chat slot every ~1 s),
 *   so the flow is smooth. A job whose chat slot is further away than `maxInlineWaitMs` (a busy
 *   chat, a pause) keeps it and is delayed until then; one whose bot slot would be that far away
 *   keeps its chat slot and comes back nearer its turn. Either way it holds no worker meanwhile,
 *   so a burst to one chat or one bot's backlog never occupies the workers others need. A pause
 *   (pauseAll, after a 429 or 401) voids the chat slots handed out before it.
 * - acquire()/release() around the HTTP request itself: a sliding log of sends in which a request
 *   counts from the moment it starts until one second after its response. Telegram sees a request
 *   somewhere between those two instants, so however late a process was (GC pause, CPU
 *   contention), no second can ever contain more than `rate` arrivals, nor a chat two.
 */
const RESERVE = `${REDIS_NOW_MS}
local spacing = tonumber(ARGV[1])
local chatInterval = tonumber(ARGV[2])
local owned = tonumber(ARGV[3])
local maxInline = tonumber(ARGV[4])
local pausedUntil = tonumber(redis.call('GET', KEYS[3]) or '0')
-- A chat slot handed out before a pause began is void: the chat gets a new one after the pause.
if owned >= 0 and owned < pausedUntil then owned = -1 end
if owned < 0 then
  local chatNext = tonumber(redis.call('GET', KEYS[2]) or '0')
  local slot = math.max(now, chatNext, pausedUntil)
  redis.call('SET', KEYS[2], tostring(slot + chatInterval), 'PX', math.ceil(slot - now + chatInterval * 4 + 60000))
  if slot - now > maxInline then
    return {'delay', tostring(slot), tostring(slot), tostring(now)}
  end
  owned = slot
end
local globalNext = tonumber(redis.call('GET', KEYS[1]) or '0')
local sendAt = math.max(now, owned, globalNext)
-- The bot's queue is long: come back when its turn is near, keeping the chat slot; taking a far
-- bot slot now would hold a worker (or, delayed, leave the bot idle if the job never returns).
if sendAt - now > maxInline then
  return {'delay', tostring(owned), tostring(sendAt - maxInline / 2), tostring(now)}
end
redis.call('SET', KEYS[1], tostring(sendAt + spacing), 'PX', math.ceil(sendAt - now + spacing + 60000))
return {'send', tostring(sendAt), tostring(sendAt), tostring(now)}
`;

/** Returns '0' when the request may start now (and records it as in flight), else ms to wait. */
const ACQUIRE = `${REDIS_NOW_MS}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local inflightMs = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tostring(now - window))
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tostring(math.min(tonumber(oldest[2]) + window - now, 50))
end
local last = redis.call('GET', KEYS[2])
if last == 'inflight' then return '20' end
if last and now - tonumber(last) < window then return tostring(tonumber(last) + window - now) end
-- In flight: counted until it is released; a worker dying mid-request frees it after inflightMs.
redis.call('ZADD', KEYS[1], tostring(now + inflightMs), ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(inflightMs + window * 2))
redis.call('SET', KEYS[2], 'inflight', 'PX', math.ceil(inflightMs))
return '0'
`;

/** The response came back: the request arrived no later than now. */
const RELEASE = `${REDIS_NOW_MS}
redis.call('ZADD', KEYS[1], 'XX', tostring(now), ARGV[1])
redis.call('SET', KEYS[2], tostring(now), 'PX', math.ceil(tonumber(ARGV[2]) * 2))
return 1
`;

const PAUSE = `${REDIS_NOW_MS}
local untilAt = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilAt > current then
  redis.call('SET', KEYS[1], tostring(untilAt), 'PX', math.ceil(tonumber(ARGV[1]) + 60000))
end
return 1
`;

export type PaceDecision =
  /** Send after waitMs (the planned slot). */
  | { kind: 'send'; waitMs: number }
  /** The chat is busy: come back in delayMs presenting `slot` as the owned reservation. */
  | { kind: 'delay'; delayMs: number; slot: number };

export interface SendPacerOptions {
  redis: Redis;
  keyPrefix: string;
  /** The bot's numeric id (the token's part before `:`, not secret): its own budget. */
  botId: string;
  messagesPerSecond: number;
  /** Upper bound of one request (the sender's timeout); an unreleased request frees its slot after it. */
  requestTimeoutMs: number;
  maxInlineWaitMs?: number;
}

const WINDOW_MS = 1000;

export function createSendPacer(options: SendPacerOptions) {
  const spacingMs = WINDOW_MS / options.messagesPerSecond;
  const chatIntervalMs = WINDOW_MS + 20;
  const maxInlineWaitMs = options.maxInlineWaitMs ?? 1500;
  const inflightMs = options.requestTimeoutMs + 1000;
  // `{botId}` is a hash tag: each script reads the bot's keys and one chat's together, which on a
  // Redis Cluster must share a slot (else CROSSSLOT). One bot's pacer lives on one shard, and the
  // bots spread over the shards.
  const key = (name: string) => `${options.keyPrefix}:pacer:{${options.botId}}:${name}`;
  let sequence = 0;

  async function acquire(chatId: string): Promise<string | number> {
    const member = `${process.pid}:${++sequence}:${Math.random().toString(36).slice(2)}`;
    const wait = Number(
      await options.redis.eval(
        ACQUIRE,
        2,
        key('sent'),
        key(`chat-sent:${chatId}`),
        String(options.messagesPerSecond),
        String(WINDOW_MS),
        String(inflightMs),
        member,
      ),
    );
    return wait > 0 ? Math.ceil(wait) : member;
  }

  return {
    async reserve(chatId: string, ownedSlot?: number): Promise<PaceDecision> {
      const result = (await options.redis.eval(
        RESERVE,
        3,
        key('global-next'),
        key(`chat-next:${chatId}`),
        key('paused-until'),
        String(spacingMs),
        String(chatIntervalMs),
        String(ownedSlot ?? -1),
        String(maxInlineWaitMs),
      )) as [string, string, string, string];
      // [kind, slot, due, now]: a delayed job presents `slot` (its chat's) when it returns at `due`.
      const [kind, slot, due, now] = [result[0], Number(result[1]), Number(result[2]), Number(result[3])];
      const wait = Math.max(0, Math.ceil(due - now));
      return kind === 'send' ? { kind: 'send', waitMs: wait } : { kind: 'delay', delayMs: wait, slot };
    },

    /** Runs `send` once both limits allow it, holding its place in the log until it answered. */
    async around<T>(chatId: string, send: () => Promise<T>): Promise<T> {
      let slot = await acquire(chatId);
      while (typeof slot === 'number') {
        await new Promise((resolve) => setTimeout(resolve, slot as number));
        slot = await acquire(chatId);
      }
      try {
        return await send();
      } finally {
        await options.redis
          .eval(RELEASE, 2, key('sent'), key(`chat-sent:${chatId}`), slot, String(WINDOW_MS))
          .catch(() => {});
      }
    },

    /** Telegram said 429 (or 401) to this bot: no worker plans a send of this bot for `ms`. */
    async pauseAll(ms: number): Promise<void> {
      await options.redis.eval(PAUSE, 1, key('paused-until'), String(ms));
    },
  };
}

export type SendPacer = ReturnType<typeof createSendPacer>;
