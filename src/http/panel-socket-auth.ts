import type { IncomingMessage } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RawData } from 'ws';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { forkForTenant } from '../db/orm.ts';
import { findPanelSession } from '../domain/panel-sessions.ts';
import { effectiveRole, hasPermission } from '../domain/permissions.ts';
import { markSeen, upsertTelegramUser } from '../domain/users.ts';
import type { Metrics } from '../observability/metrics.ts';
import { InitDataError, validateInitData } from '../telegram/init-data.ts';
import type { TenantDirectory, TenantProfile } from '../tenants/tenant-directory.ts';
import { startAuthAttempt } from './auth-attempt.ts';
import { readSessionCookie, requestOrigin, sameOrigin, sessionCookieName } from './panel-session-auth.ts';
import { lookUpTenant } from './tenant-resolution.ts';

/** Close codes of the panel protocol (DESIGN.md, "Panel WebSocket"). */
export const PanelCloseCode = {
  badCredentials: 4401,
  notAnAdmin: 4403,
  goingAway: 1001,
  internalError: 1011,
} as const;

export type AuthOutcome =
  | {
      ok: true;
      tenantId: string;
      userId: string;
      role: string;
      /** When the credentials stop being good: the socket closes then, with `expiredReason`. */
      expiresAt: number;
      expiredReason: 'init_data_expired' | 'session_expired';
      /** Sockets opened by a panel session close when it is logged out. */
      sessionHash?: string;
    }
  | { ok: false; code: number; reason: string };

/** What the upgrade request itself says, kept for the first message's `{"session": true}`. */
export interface Handshake {
  /** The upgrade request's Cookie header: which cookie counts depends on the tenant the auth message names. */
  cookieHeader: string | undefined;
  /** No Origin header, or our own origin: another site's page cannot ride the panel's cookie. */
  originAllowed: boolean;
  origin: string | undefined;
}

export function readHandshake(req: IncomingMessage, trustedProxyHops: number): Handshake {
  const origin = req.headers.origin;
  return {
    cookieHeader: req.headers.cookie,
    originAllowed: !origin || sameOrigin(origin, requestOrigin(req, trustedProxyHops > 0)),
    origin,
  };
}

export interface SocketAuthDeps {
  config: Config;
  tenants: TenantDirectory;
  orm: MikroORM;
  metrics: Metrics;
  log: Logger;
}

/**
 * The panel socket's first message: `{"type":"auth","initData":"…"}` (the Mini App) or
 * `{"type":"auth","session":true}` (a browser, with the session cookie on the upgrade request),
 * either with `"tenant":"<slug>"` for a coach other than the default one. Same checks as the REST
 * panel guard, against that tenant's bot, sessions and owners: the socket must not be an easier
 * way in than REST. An unknown or malformed tenant closes like bad credentials (4401).
 */
export function createSocketAuthenticator(deps: SocketAuthDeps) {
  const { config, log } = deps;
  const bad = (reason: string): AuthOutcome => ({ ok: false, code: PanelCloseCode.badCredentials, reason });
  const notAnAdmin: AuthOutcome = { ok: false, code: PanelCloseCode.notAnAdmin, reason: 'not_an_admin' };

  async function byInitData(tenant: TenantProfile, initData: string): Promise<AuthOutcome> {
    const botToken = tenant.botToken;
    if (!botToken) return bad('auth_not_configured');
    const attempt = startAuthAttempt(deps.metrics);
    let validated: ReturnType<typeof validateInitData>;
    try {
      validated = validateInitData(initData, {
        botToken,
        maxAgeSeconds: config.telegram.initDataMaxAgeSeconds,
      });
    } catch (error) {
      if (!(error instanceof InitDataError)) throw error;
      attempt.failed(error.reason);
      log.info({ event: 'telegram_auth_failed', reason: error.reason, via: 'panel_ws' }, 'initData rejected');
      return bad(error.reason === 'expired' ? 'init_data_expired' : 'invalid_init_data');
    }
    const tenantId = tenant.id;
    const user = await upsertTelegramUser(forkForTenant(deps.orm, tenantId), tenantId, validated.user);
    attempt.succeeded();
    log.info({ event: 'telegram_auth_success', userId: user.id, via: 'panel_ws' }, 'initData accepted');
    const role = effectiveRole(user, tenant.configuredOwners);
    if (!role || !hasPermission(role, 'view_applications')) return notAnAdmin;
    const expiresAt = validated.authDate.getTime() + config.telegram.initDataMaxAgeSeconds * 1000;
    return {
      ok: true,
      tenantId,
      userId: user.id,
      role,
      expiresAt,
      expiredReason: 'init_data_expired',
    };
  }

  async function bySession(tenant: TenantProfile, handshake: Handshake): Promise<AuthOutcome> {
    // Browsers send the cookie on a cross-site WebSocket handshake too (no CORS for upgrades),
    // so the Origin is what tells our page from another site's.
    if (!handshake.originAllowed) {
      log.warn(
        { event: 'panel_ws_foreign_origin', origin: handshake.origin?.slice(0, 200) },
        'panel socket from another origin refused',
      );
      return bad('foreign_origin');
    }
    const sessionToken = readSessionCookie(handshake.cookieHeader, sessionCookieName(tenant));
    if (!sessionToken) return bad('missing_session');
    const tenantId = tenant.id;
    const em = forkForTenant(deps.orm, tenantId);
    const found = await findPanelSession(em, tenantId, sessionToken);
    if (!found.ok) {
      log.info({ event: 'panel_session_rejected', reason: found.reason, via: 'panel_ws' }, 'session refused');
      return bad(found.reason);
    }
    const role = effectiveRole(found.user, tenant.configuredOwners);
    if (!role || !hasPermission(role, 'view_applications')) return notAnAdmin;
    await markSeen(em, found.user);
    return {
      ok: true,
      tenantId,
      userId: found.user.id,
      role,
      expiresAt: found.session.expiresAt.getTime(),
      expiredReason: 'session_expired',
      sessionHash: found.session.tokenHash,
    };
  }

  return async (data: RawData, isBinary: boolean, handshake: Handshake): Promise<AuthOutcome> => {
    if (isBinary) return bad('invalid_auth_message');
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return bad('invalid_auth_message');
    }
    const { type, initData, session, tenant } = (message ?? {}) as {
      type?: unknown;
      initData?: unknown;
      session?: unknown;
      tenant?: unknown;
    };
    if (type !== 'auth') return bad('invalid_auth_message');
    if (tenant !== undefined && typeof tenant !== 'string') return bad('invalid_auth_message');
    // Exactly one way in per message: never "the cookie, unless the initData says otherwise".
    const way =
      typeof initData === 'string' && session === undefined
        ? 'initData'
        : session === true && initData === undefined
          ? 'session'
          : undefined;
    if (!way) return bad('invalid_auth_message');
    const lookup = await lookUpTenant(deps.tenants, tenant);
    if (!lookup.ok) {
      log.info(
        { event: 'panel_ws_tenant_refused', reason: lookup.reason },
        'panel socket for no known tenant',
      );
      return bad(lookup.reason);
    }
    return way === 'initData'
      ? byInitData(lookup.tenant, initData as string)
      : bySession(lookup.tenant, handshake);
  };
}
