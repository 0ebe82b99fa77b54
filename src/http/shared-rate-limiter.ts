import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  RLWrapperTimeouts,
} from 'rate-limiter-flexible';

/** A connection that is "ready" but hangs would otherwise hold requests for the command timeout. */
const LIMITER_TIMEOUT_MS = 500;

export interface SharedRateLimiter {
  /** Resolves when allowed; otherwise the ms until the next point frees up. */
  consume(key: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

/**
 * A fixed-window limit shared by every web instance through Redis. With Redis down each instance
 * falls back to limiting on its own (an in-memory insurance limiter): looser than the shared
 * budget, but the endpoint keeps working, which matters more than exactness during an outage.
 */
export function createSharedRateLimiter(options: {
  redis: Redis;
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}): SharedRateLimiter {
  const { keyPrefix, points, durationSeconds: duration } = options;
  const limiter = new RLWrapperTimeouts({
    limiter: new RateLimiterRedis({
      storeClient: options.redis,
      keyPrefix,
      points,
      duration,
      // While ioredis reconnects, go straight to the insurance limiter instead of failing a command.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
    }),
    timeoutMs: LIMITER_TIMEOUT_MS,
  });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        return { allowed: false, retryAfterMs: error.msBeforeNext };
      }
    },
  };
}
