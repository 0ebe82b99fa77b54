import { timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { ForbiddenError, ServiceUnavailableError, TooManyRequestsError } from '../domain/errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { secretDigest } from '../security/constant-time.ts';
import type { AppContext as Context, Next } from './request-state.ts';
import { createSharedRateLimiter } from './shared-rate-limiter.ts';

export interface BotApiAuthDeps {
  config: Config;
  metrics: Metrics;
  /** Fail-fast producer connection (no offline queue): a Redis outage errors at once. */
  redis: Redis;
  logger: Logger;
}

export const BOT_SECRET_HEADER = 'x-bot-api-secret';

type RejectReason = 'bad_secret' | 'ip_not_allowed';

/** `::ffff:10.1.2.3` (an IPv4 client on a dual-stack socket) is the same caller as `10.1.2.3`. */
export function normaliseIp(ip: string): string {
  const lower = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  return mapped ? mapped[1]! : lower;
}

/**
 * Exact addresses, plus CIDR ranges for callers whose egress is a subnet. A typo must stop the
 * boot: silently dropping an entry would lock the bot out, or worse, an empty list allows anyone.
 */
function buildAllowList(entries: string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = normaliseIp(entry).split('/');
    const family = isIP(address);
    const bits = Number(prefix);
    const maxBits = family === 4 ? 32 : 128;
    if (!family || extra !== undefined || (prefix !== undefined && !/^\d+$/.test(prefix))) {
      throw new Error(`Invalid BOT_API_ALLOWED_IPS entry "${entry}": expected an IP address or CIDR range`);
    }
    if (prefix !== undefined && bits > maxBits) {
      throw new Error(`Invalid BOT_API_ALLOWED_IPS entry "${entry}": prefix longer than ${maxBits}`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

function isAllowed(list: BlockList, ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Hashing first gives equal-length buffers whatever was sent, so timingSafeEqual never throws and
 * the time spent does not depend on the presented length. Every secret is compared, with no early
 * exit, so the time does not reveal which one (or whether any) matched.
 */
function matchesAny(presented: string, secretDigests: Buffer[]): boolean {
  const presentedDigest = secretDigest(presented);
  let matched = false;
  for (const secretDigest of secretDigests) {
    matched = timingSafeEqual(presentedDigest, secretDigest) || matched;
  }
  return matched;
}

function createLimiter(deps: BotApiAuthDeps) {
  // Scoped by QUEUE_PREFIX: instances of one deployment share the budget, other deployments
  // (and parallel test files) on the same Redis do not.
  return createSharedRateLimiter({
    redis: deps.redis,
    keyPrefix: `${deps.config.redis.queuePrefix}:botapi`,
    points: deps.config.telegram.botApiRateLimitPerMinute,
    durationSeconds: 60,
  });
}

/** A tenant's own secret as stored (hex SHA-256), as the raw digest matchesAny compares. */
function tenantDigest(hex: string | undefined): Buffer[] {
  return hex && /^[0-9a-f]{64}$/.test(hex) ? [Buffer.from(hex, 'hex')] : [];
}

/**
 * Guards /api/bot (server to server). The tenant is the one X-Tenant names (tenant-resolution.ts;
 * none: the default tenant). Accepted: the platform secret (TELEGRAM_BOT_API_SECRET, for any
 * tenant) or that tenant's own secret (for that tenant only: it opens no other coach's data).
 * Order, cheapest and most certain rejection first:
 * 1. neither secret exists for this tenant → 503: the API is off, not the caller wrong;
 * 2. source IP allowlist: an in-memory lookup, so traffic from elsewhere never touches Redis;
 * 3. rate limit per IP (shared through Redis): caps how fast anyone can guess secrets and how
 *    fast the 403 path (metric, log line) can be driven;
 * 4. secret compare in constant time against every accepted secret (platform secrets: rotation).
 * Refusals all look the same to the caller (403 forbidden) so it cannot learn which check failed;
 * the log line and the metric label say which, for the operator.
 */
export function botApiAuth(deps: BotApiAuthDeps) {
  const { config, metrics, logger } = deps;
  const platformDigests = config.telegram.botApiSecrets.map((secret) => secretDigest(secret));
  const allowList = buildAllowList(config.telegram.botApiAllowedIps);
  const limiter = createLimiter(deps);

  const refuse = (ctx: Context, ip: string, reason: RejectReason, extra: Record<string, unknown> = {}) => {
    metrics.botApi403.inc({ reason });
    // One event name for every refusal, so a single alert covers secret and IP problems alike.
    // The header value is never logged, not even a prefix of it.
    (ctx.state.log ?? logger).warn(
      { event: 'bot_secret_mismatch', ip, reason, path: ctx.path, ...extra },
      'bot API request refused',
    );
    return new ForbiddenError('forbidden', 'You are not allowed to use the bot API.');
  };

  return async (ctx: Context, next: Next) => {
    const secretDigests = [...platformDigests, ...tenantDigest(ctx.state.tenant.botApiSecretDigest)];
    if (secretDigests.length === 0) {
      throw new ServiceUnavailableError(
        'bot_api_not_configured',
        'The bot API is disabled: neither TELEGRAM_BOT_API_SECRET nor a secret of this tenant is set.',
        60,
      );
    }
    // ctx.ip honours X-Forwarded-For only when the app was built with proxy: TRUST_PROXY.
    const ip = normaliseIp(ctx.ip);
    if (allowList && !isAllowed(allowList, ip)) throw refuse(ctx, ip, 'ip_not_allowed');

    const limit = await limiter.consume(ip);
    if (!limit.allowed) {
      (ctx.state.log ?? logger).warn({ event: 'bot_api_rate_limited', ip }, 'bot API rate limit hit');
      throw new TooManyRequestsError(
        'rate_limited',
        'Too many bot API requests; retry after the time in Retry-After.',
        limit.retryAfterMs / 1000,
      );
    }

    const presented = ctx.get(BOT_SECRET_HEADER);
    if (!matchesAny(presented, secretDigests)) {
      throw refuse(ctx, ip, 'bad_secret', { secretPresent: presented.length > 0 });
    }
    await next();
  };
}
