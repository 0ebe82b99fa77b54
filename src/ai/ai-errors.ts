/** The AI endpoint asked us to slow down; retry no sooner than retryAfterMs. */
export class AiRateLimitedError extends Error {
  override name = 'AiRateLimitedError';
  constructor(
    readonly retryAfterMs: number,
    message = 'AI provider rate limit reached',
  ) {
    super(message);
  }
}

/** A failure that may go away on its own: timeout, network, 5xx, a malformed reply. */
export class AiTransientError extends Error {
  override name = 'AiTransientError';
}

/** A failure retrying cannot fix: bad credentials, unknown model, refused request. */
export class AiPermanentError extends Error {
  override name = 'AiPermanentError';
}
