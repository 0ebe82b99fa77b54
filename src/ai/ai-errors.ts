/** The AI endpoint asked us to slow down; retry no sooner than retryAfterMs. */
export class AiRateLimitedError extends Error {
  override name = 'AiRateLimitedError';
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = 'AI provider rate limit reached') {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Our own limit, not the provider's: the AI_REQUESTS_PER_MINUTE budget that every worker shares
 * through Redis has no free slot for retryAfterMs (src/ai/rate-limited-plan-provider.ts). No AI
 * call was made and nothing failed, so the job should run again after retryAfterMs without
 * spending an attempt. It extends AiRateLimitedError so that code knowing only "rate limited,
 * come back in retryAfterMs" waits correctly; code that treats the two differently (an upstream
 * 429 is a failed call and a signal to pause everyone) must check for this class first.
 */
export class AiLocalRateLimitError extends AiRateLimitedError {
  override name = 'AiLocalRateLimitError';
}

/** A failure that may go away on its own: timeout, network, 5xx, a malformed reply. */
export class AiTransientError extends Error {
  override name = 'AiTransientError';
  /** The AI provider failed: not a PostgreSQL or Redis outage (src/db/dependency-errors.ts). */
  readonly outsideService: string | undefined = 'ai';
}

/**
 * The shared AI budget could not be checked because Redis is down or slow: the AI is not called.
 * That is our platform's outage (its cause is the Redis error), so the job waits without spending
 * attempts like any other outage.
 */
export class AiLimiterUnavailableError extends AiTransientError {
  override name = 'AiLimiterUnavailableError';
  override readonly outsideService = undefined;
}

/** A failure retrying cannot fix: bad credentials, unknown model, refused request. */
export class AiPermanentError extends Error {
  override name = 'AiPermanentError';
}
