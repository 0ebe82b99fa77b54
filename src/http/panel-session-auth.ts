import type { IncomingMessage } from 'node:http';
import type { Redis } from 'ioredis';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { ForbiddenError, TooManyRequestsError, UnauthorizedError } from '../domain/errors.ts';
import { findPanelSession } from '../domain/panel-sessions.ts';
import { markSeen } from '../domain/users.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';
import { normaliseIp } from './bot-api-auth.ts';
import type { AppContext as Context, AppMiddleware as Middleware, Next } from './request-state.ts';
import { createSharedRateLimiter } from './shared-rate-limiter.ts';
import { tmaAuth } from './tma-auth.ts';

/**
 * The trainer panel in a desktop browser: after a Telegram Login Widget login
 * (POST /api/panel/session) the browser holds an HttpOnly, SameSite=Strict cookie scoped to
 * /api/panel. Only panel routes and the panel socket read it; Mini App routes never do.
 * Each tenant has its own cookie name, so an admin of two coaches can be logged in to both
 * panels in one browser; a cookie is only ever read for its own tenant.
 */
export const PANEL_SESSION_COOKIE = 'coach_panel_session';
export const PANEL_SESSION_PATH = '/api/panel';

/** `coach_panel_session` for the default tenant (as before tenants), `coach_panel_session_<slug>` for others. */
export function sessionCookieName(tenant: Pick<TenantProfile, 'slug' | 'isDefault'>): string {
  // Slugs are lower-case letters, digits and hyphens: all valid in a cookie name.
  return tenant.isDefault ? PANEL_SESSION_COOKIE : `${PANEL_SESSION_COOKIE}_${tenant.slug}`;
}
/** Cookie-authenticated writes must carry `X-Requested-With: coach-panel` (a header no form can send). */
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_HEADER_VALUE = 'coach-panel';

/** A tenant's cookie value in a Cookie header, by its exact name; browsers list the most specific path first. */
export function readSessionCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Written by hand: the `cookies` module sends Expires only, and the panel's contract is Max-Age. */
function sessionCookie(name: string, token: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${name}=${token}`,
    `Max-Age=${maxAgeSeconds}`,
    `Path=${PANEL_SESSION_PATH}`,
    'HttpOnly',
    'SameSite=Strict',
    // ctx.secure honours X-Forwarded-Proto only with TRUST_PROXY, like every proxy header.
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

/** The request's own tenant's session cookie, if the browser sent one. */
export function requestSessionToken(ctx: Context): string | undefined {
  return readSessionCookie(ctx.get('cookie'), sessionCookieName(ctx.state.tenant));
}

export function setSessionCookie(ctx: Context, token: string, maxAgeSeconds: number): void {
  ctx.append(
    'Set-Cookie',
    sessionCookie(sessionCookieName(ctx.state.tenant), token, maxAgeSeconds, ctx.secure),
  );
}

export function clearSessionCookie(ctx: Context): void {
  ctx.append('Set-Cookie', sessionCookie(sessionCookieName(ctx.state.tenant), '', 0, ctx.secure));
}

/** Scheme, host and port equal (URL lower-cases and drops default ports); `null` or junk never is. */
export function sameOrigin(origin: string, expected: string): boolean {
  try {
    return new URL(origin).origin === new URL(expected).origin;
  } catch {
    return false;
  }
}

/**
 * The origin a raw request was addressed to, as Koa computes `${ctx.protocol}://${ctx.host}` (for the
 * WebSocket upgrade). Not ctx.origin: since Koa 3 that is the Origin header itself.
 */
export function requestOrigin(req: IncomingMessage, trustProxy: boolean): string {
  const first = (value: string | string[] | undefined) =>
    String(value ?? '')
      .split(',')[0]!
      .trim();
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const protocol = encrypted ? 'https' : (trustProxy && first(req.headers['x-forwarded-proto'])) || 'http';
  const host = (trustProxy && first(req.headers['x-forwarded-host'])) || req.headers.host || '';
  return `${protocol}://${host}`;
}

/** An Origin header, when a browser sent one, must be our own: another site's page cannot act here. */
export function checkOrigin(ctx: Context): void {
  const origin = ctx.get('origin');
  if (origin && !sameOrigin(origin, `${ctx.protocol}://${ctx.host}`))
    throw csrfRefused(ctx, 'foreign_origin');
}

/**
 * CSRF for cookie-authenticated requests. SameSite=Strict already keeps the cookie off cross-site
 * requests; this is the second lock for browsers or setups where it does not (same-site sibling
 * hosts, old browsers): every method but GET and HEAD needs our header, and a same-origin Origin.
 */
export function checkCsrf(ctx: Context): void {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return;
  if (ctx.get(CSRF_HEADER) !== CSRF_HEADER_VALUE) throw csrfRefused(ctx, 'missing_header');
  checkOrigin(ctx);
}

function csrfRefused(ctx: Context, reason: string): ForbiddenError {
  ctx.state.log?.warn(
    { event: 'panel_csrf_refused', reason, method: ctx.method, path: ctx.path },
    'cross-site request refused',
  );
  return new ForbiddenError(
    'csrf_check_failed',
    'Send X-Requested-With: coach-panel, from a page of this site, to change anything with a panel session.',
  );
}

/**
 * The `panel` access kind's authentication: `Authorization: tma <initData>` when the header is
 * present (it wins), otherwise the session cookie. Either way ctx.state.user is the user's row, and
 * requirePermission runs next on their current role, so a revoked role stops a session at once.
 */
export function panelAuth(config: Config): Middleware {
  const initData = tmaAuth(config);
  return async (ctx: Context, next: Next) => {
    const token = ctx.get('authorization') ? undefined : requestSessionToken(ctx);
    if (token === undefined) return initData(ctx, next);
    checkCsrf(ctx);
    const found = await findPanelSession(ctx.state.em, ctx.state.tenantId, token);
    if (!found.ok) {
      ctx.state.log.info({ event: 'panel_session_rejected', reason: found.reason }, 'panel session refused');
      clearSessionCookie(ctx);
      throw new UnauthorizedError(
        found.reason,
        found.reason === 'session_expired'
          ? 'The panel session has expired; log in again.'
          : 'The panel session is not valid; log in again.',
      );
    }
    ctx.state.user = found.user;
    ctx.state.panelSession = { tokenHash: found.session.tokenHash, expiresAt: found.session.expiresAt };
    ctx.state.log = ctx.state.log.child({ userId: found.user.id, via: 'panel_session' });
    await markSeen(ctx.state.em, found.user);
    await next();
  };
}

/**
 * The `panelLogin` access kind: anyone may present Login Widget data, but each address only
 * PANEL_LOGIN_RATE_LIMIT_PER_MINUTE times a minute, shared by every web instance through Redis.
 */
export function panelLoginRateLimit(deps: { config: Config; redis: Redis; logger: Logger }): Middleware {
  const limiter = createSharedRateLimiter({
    redis: deps.redis,
    keyPrefix: `${deps.config.redis.queuePrefix}:panel-login`,
    points: deps.config.panelLogin.rateLimitPerMinute,
    durationSeconds: 60,
  });
  return async (ctx: Context, next: Next) => {
    const ip = normaliseIp(ctx.ip);
    const limit = await limiter.consume(ip);
    if (!limit.allowed) {
      (ctx.state.log ?? deps.logger).warn(
        { event: 'panel_login_rate_limited', ip },
        'panel login rate limit hit',
      );
      throw new TooManyRequestsError(
        'rate_limited',
        'Too many login attempts from this address; retry after the time in Retry-After.',
        limit.retryAfterMs / 1000,
      );
    }
    await next();
  };
}
