import type { Redis } from 'ioredis';
import { REDIS_NOW_MS } from '../util/redis-clock.ts';
import { AiLimiterUnavailableError, AiLocalRateLimitError, AiTransientError } from './ai-errors.ts';
import type { PlanProvider } from './plan-provider.ts';

/**
 * A sliding-window log of AI calls. Each member is one call; its score is the latest moment the
 * provider can have received it. Returns 0 when the caller may call now (and logs the call), else
 * the ms until the oldest call leaves the window.
 */
const ACQUIRE = `${REDIS_NOW_MS}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local margin = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', KEYS[1], now + margin, ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.ceil(window + margin + 1000))
return 0
`;

/** The call has ended: the provider received it no later than now. Never moves a score later. */
const RELEASE = `${REDIS_NOW_MS}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and now < tonumber(score) then
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
end
return 1
`;

/** The call was never made (a limiter inside it refused): it takes no slot at all. */
const FORGET = `redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`;

/** How often a caller waiting in place for a slot asks again. */
const RECHECK_MS = 200;

export interface AiCallLimiterOptions {
  /** A fail-fast connection (the worker's producer connection: no offline queue). */
  redis: Redis;
  /** Every process with the same prefix (QUEUE_PREFIX) shares one budget. */
  keyPrefix: string;
  /** At most this many calls in any window, counted across every process. */
  maxCalls: number;
  /** The window, 60 s for a per-minute limit (tests use a short one). */
  windowMs?: number;
  /** A free slot this close is waited for in place; a later one is reported as AiLocalRateLimitError. */
  maxWaitMs?: number;
  /**
   * How long after its start a call is assumed to have reached the provider at the latest. A call
   * counts from its start until one window after its end or after start + this margin, whichever
   * is earlier; see createAiCallLimiter.
   */
  arrivalMarginMs?: number;
  /** A Redis that does not answer within this is treated as down (fail closed). */
  redisTimeoutMs?: number;
  /** Names the budget in the error when it is used up. */
  budgetName?: string;
}

export interface AiCallLimiter {
  /**
   * Runs `call` once the shared budget has a slot for it. Throws AiLocalRateLimitError (the call
   * is not made) when the next slot is further than maxWaitMs away, and AiTransientError when the
   * budget cannot be checked (Redis down or slow): never an AI call without the limit.
   */
  run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * AI_REQUESTS_PER_MINUTE as a guarantee: never more than `maxCalls` AI calls reach the provider in
 * any `windowMs`, however many worker processes share the prefix. A sliding-window log in Redis
 * (one atomic Lua script on Redis's clock), so there is no window boundary to burst across, as a
 * fixed per-minute counter would allow (N at the end of one minute, N more at the start of the next).
 *
 * When exactly the provider sees a request is unknown: somewhere between our start and the
 * response. So a call is logged from its start, with the latest moment it can have arrived as its
 * score: start + arrivalMarginMs while it runs, lowered to its end when it ends sooner (the usual
 * case for a fake; a real AI call takes seconds, so for those it stays start + margin). It counts
 * until a window after that score. A call that ends after the margin is assumed to have been
 * received within it (network latency and connection setup, not seconds); holding its slot until
 * a window after its end instead would cost a 20-second AI call a third of its slot time.
 *
 * A process that dies mid-call leaves its entry to expire on its own; a call whose start could not
 * be confirmed (Redis timed out after granting it) is not made but still counts: both only ever
 * make the limit stricter.
 */
export function createAiCallLimiter(options: AiCallLimiterOptions): AiCallLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const maxWaitMs = options.maxWaitMs ?? 3_000;
  const arrivalMarginMs = options.arrivalMarginMs ?? 2_000;
  const redisTimeoutMs = options.redisTimeoutMs ?? 1_000;
  const key = `${options.keyPrefix}:ai-calls`;
  let sequence = 0;

  async function redisCall(script: string, member: string, ...args: string[]): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(Object.assign(new Error(`no answer within ${redisTimeoutMs} ms`), { code: 'ETIMEDOUT' })),
        redisTimeoutMs,
      );
    });
    try {
      return Number(await Promise.race([options.redis.eval(script, 1, key, ...args, member), timeout]));
    } finally {
      clearTimeout(timer);
    }
  }

  async function acquire(member: string): Promise<number> {
    try {
      return await redisCall(
        ACQUIRE,
        member,
        String(options.maxCalls),
        String(windowMs),
        String(arrivalMarginMs),
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // The cause (a Redis connection error or ETIMEDOUT) lets the queue see a dependency outage.
      throw new AiLimiterUnavailableError(
        `AI rate limiter unavailable (Redis: ${reason}); the AI is not called unlimited`,
        { cause: error },
      );
    }
  }

  return {
    async run(call, signal) {
      const member = `${process.pid}:${++sequence}:${Math.random().toString(36).slice(2)}`;
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        if (signal?.aborted) throw new AiTransientError('aborted while waiting for an AI rate-limit slot');
        const waitMs = await acquire(member);
        if (waitMs === 0) break;
        if (Date.now() + waitMs > deadline) {
          throw new AiLocalRateLimitError(
            waitMs,
            `${options.budgetName ?? 'AI_REQUESTS_PER_MINUTE'} budget used up (${options.maxCalls} calls per ${windowMs / 1000} s across all workers); next slot in ${waitMs} ms`,
          );
        }
        // Look again well before then: a call in flight frees its slot earlier when it ends.
        await sleep(Math.min(waitMs, RECHECK_MS), signal);
      }
      let made = true;
      try {
        return await call();
      } catch (error) {
        // A limiter nested inside (the global one, inside a tenant's) refused: no AI call happened,
        // so this budget gives its slot back instead of counting a call that never was.
        made = !(error instanceof AiLocalRateLimitError || error instanceof AiLimiterUnavailableError);
        throw error;
      } finally {
        // Best effort: an entry not released keeps its start + margin score, which is stricter.
        await redisCall(made ? RELEASE : FORGET, member).catch(() => {});
      }
    },
  };
}

/** The provider, with every generatePlan call first taking a slot from `limiter`. */
export function withAiRateLimit(provider: PlanProvider, limiter: AiCallLimiter): PlanProvider {
  return {
    name: provider.name,
    generatePlan: (input) => limiter.run(() => provider.generatePlan(input), input.signal),
  };
}

/**
 * What a worker's plan provider should be: AI providers limited to `requestsPerMinute` calls per
 * minute across every worker sharing `keyPrefix`. The offline generator makes no AI call and is
 * returned as it is: the plans queue itself has no rate limit.
 */
export function limitAiCalls(
  provider: PlanProvider,
  options: { redis: Redis; keyPrefix: string; requestsPerMinute: number },
): PlanProvider {
  if (provider.name === 'offline') return provider;
  return withAiRateLimit(
    provider,
    createAiCallLimiter({
      redis: options.redis,
      keyPrefix: options.keyPrefix,
      maxCalls: options.requestsPerMinute,
    }),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
