import { z } from 'zod';
import { TelegramUser } from '../../db/entities/index.ts';
import type { AdminRole } from '../../db/entities/telegram-user.entity.ts';
import {
  type AppError,
  BadRequestError,
  ForbiddenError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../domain/errors.ts';
import { createPanelSession, endPanelSession, sessionTokenHash } from '../../domain/panel-sessions.ts';
import { effectiveRole, ROLE_PERMISSIONS } from '../../domain/permissions.ts';
import { upsertWidgetUser } from '../../domain/users.ts';
import {
  LoginWidgetError,
  type LoginWidgetFailure,
  MAX_LOGIN_FIELDS,
  MAX_LOGIN_VALUE_LENGTH,
  verifyLoginWidget,
} from '../../security/login-widget.ts';
import { startAuthAttempt } from '../auth-attempt.ts';
import { claimLoginOnce } from '../login-replay-guard.ts';
import {
  checkCsrf,
  checkOrigin,
  clearSessionCookie,
  requestSessionToken,
  setSessionCookie,
} from '../panel-session-auth.ts';
import { PANEL_LOGIN, PUBLIC, panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { errorSchema } from '../schemas.ts';

/** Whose Login Widget data the example body is; route-fuzz makes this id an owner to reach the handler. */
export const EXAMPLE_LOGIN_TELEGRAM_ID = 279058397;

const decimal = (digits: number) => z.string().regex(new RegExp(`^\\d{1,${digits}}$`));

/**
 * The widget's fields as sent (names are Telegram's). The handler checks the signature over the
 * body exactly as received, unknown fields included; this schema only bounds its shape.
 */
const loginBody = z
  .object({
    id: z.union([z.int().positive(), decimal(20)]).meta({ description: 'Telegram user id' }),
    first_name: z.string().max(256).optional(),
    last_name: z.string().max(256).optional(),
    username: z.string().max(64).optional(),
    photo_url: z.string().max(MAX_LOGIN_VALUE_LENGTH).optional(),
    auth_date: z.union([z.int().nonnegative(), decimal(12)]).meta({ description: 'Unix seconds' }),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  // Fields Telegram may add later are signed too, so they are accepted, within bounds.
  .catchall(z.union([z.string().max(MAX_LOGIN_VALUE_LENGTH), z.int().nonnegative()]))
  .refine((body) => Object.keys(body).length <= MAX_LOGIN_FIELDS, `at most ${MAX_LOGIN_FIELDS} fields`)
  .meta({
    description:
      'The Telegram Login Widget data, unchanged (callback object, or the redirect URL query values as strings)',
    examples: [
      {
        id: EXAMPLE_LOGIN_TELEGRAM_ID,
        first_name: 'Anna',
        username: 'anna_coach',
        auth_date: 1764547200,
        hash: '5b0f1c3e8a1d4e6f7a9b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071',
      },
    ],
  });

const roleSchema = z.enum(['owner', 'trainer', 'support']);
const sessionUser = z.object({
  telegramId: z.string(),
  firstName: z.string(),
  lastName: z.string().optional(),
  username: z.string().optional(),
});
const loginReply = z.object({
  user: sessionUser,
  role: roleSchema,
  permissions: z.array(z.string()),
  expiresAt: z.string().meta({ description: 'ISO 8601; the cookie expires then' }),
});
const sessionReply = z.object({
  user: sessionUser,
  role: roleSchema,
  permissions: z.array(z.string()),
  via: z.enum(['initData', 'session']),
  expiresAt: z.string().optional().meta({ description: 'ISO 8601, for a session (via: session)' }),
});

function userView(user: TelegramUser) {
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    ...(user.lastName ? { lastName: user.lastName } : {}),
    ...(user.username ? { username: user.username } : {}),
  };
}

const grants = (role: AdminRole) => [...ROLE_PERMISSIONS[role]];

/** Signature problems are 401 (try the widget again); a body that is not widget data at all is 400. */
function loginRefusal(reason: LoginWidgetFailure): AppError {
  if (reason === 'malformed' || reason === 'no_hash')
    return new BadRequestError('validation_failed', 'The body is not Telegram Login Widget data.');
  if (reason === 'expired')
    return new UnauthorizedError(
      'login_expired',
      'The Telegram login is too old; log in with Telegram again.',
    );
  return new UnauthorizedError('invalid_login', 'The Telegram login data is not valid.');
}

const tags = ['Panel: session'];

export const panelSessionRoutes = [
  defineRoute({
    name: 'createPanelSession',
    method: 'POST',
    path: '/api/panel/session',
    summary:
      'Log in to the trainer panel from a browser with Telegram Login Widget data of the tenant’s bot; sets the tenant’s session cookie (coach_panel_session, or coach_panel_session_<slug> for X-Tenant: <slug>)',
    tags,
    access: PANEL_LOGIN,
    body: loginBody,
    responses: {
      200: { description: 'Logged in; Set-Cookie carries the session', schema: loginReply },
      401: {
        description:
          '`invalid_login` (signature), `login_expired` (auth_date too old) or `login_already_used` (each signed login works once)',
        schema: errorSchema,
      },
      403: {
        description: '`not_an_admin` (no panel role), or `csrf_check_failed` (another site’s Origin)',
        schema: errorSchema,
      },
      503: { description: '`auth_not_configured`: no bot token', schema: errorSchema },
    },
    async handler({ ctx, em, tenantId, tenant, log, ip }, deps) {
      const { config } = deps;
      checkOrigin(ctx);
      // The Login Widget of this tenant's bot: data signed by another coach's bot does not verify.
      const botToken = tenant.botToken;
      if (!botToken)
        throw new ServiceUnavailableError('auth_not_configured', 'Panel login is not configured.', 60);
      // Counted with initData logins (telegram_auth_*), so the auth alerts see every way in.
      const attempt = startAuthAttempt(ctx.state.metrics);
      let login: ReturnType<typeof verifyLoginWidget>;
      try {
        // The body as received, not as parsed by the schema: the signature covers every field sent.
        login = verifyLoginWidget(ctx.request.body, {
          botToken,
          maxAgeSeconds: config.panelLogin.maxAgeSeconds,
        });
      } catch (error) {
        if (!(error instanceof LoginWidgetError)) throw error;
        attempt.failed(error.reason);
        log.info(
          { event: 'telegram_auth_failed', reason: error.reason, via: 'login_widget', ip },
          'Login Widget data rejected',
        );
        throw loginRefusal(error.reason);
      }
      await claimLoginOnce(deps.redis, config.redis.queuePrefix, login, config.panelLogin.maxAgeSeconds);
      attempt.succeeded();

      const telegramId = login.user.id;
      const existing = await em.findOne(TelegramUser, { tenantId, telegramId });
      const role = effectiveRole({ telegramId, role: existing?.role ?? null }, tenant.configuredOwners);
      if (!role) {
        // Nothing is written for someone without a role: no user row, no session.
        log.info(
          { event: 'panel_login_refused', reason: 'not_an_admin', telegramId, ip },
          'panel login refused',
        );
        throw new ForbiddenError('not_an_admin', 'This is only for the coach and their team.');
      }
      const user = await upsertWidgetUser(em, tenantId, login.user, existing?.id);
      // A login from a browser that still holds a session replaces it rather than leaving it behind.
      const previous = requestSessionToken(ctx);
      if (previous) await endPanelSession(em, tenantId, previous);
      const ttlSeconds = config.panelLogin.sessionTtlSeconds;
      const session = await createPanelSession(em, {
        tenantId,
        telegramId: user.telegramId,
        ttlSeconds,
        userAgent: ctx.get('user-agent'),
      });
      setSessionCookie(ctx, session.token, ttlSeconds);
      log.info(
        { event: 'panel_session_created', userId: user.id, role, expiresAt: session.expiresAt, ip },
        'panel login',
      );
      return {
        status: 200,
        body: {
          user: userView(user),
          role,
          permissions: grants(role),
          expiresAt: session.expiresAt.toISOString(),
        },
      };
    },
  }),

  defineRoute({
    name: 'getPanelSession',
    method: 'GET',
    path: '/api/panel/session',
    summary: 'Who the panel caller is, their role and permissions, and how they are authenticated',
    tags,
    access: panel('view_applications'),
    responses: { 200: { description: 'The caller', schema: sessionReply } },
    async handler({ ctx, user, role }) {
      const session = ctx.state.panelSession;
      return {
        status: 200,
        body: {
          user: userView(user),
          role,
          permissions: grants(role),
          via: session ? ('session' as const) : ('initData' as const),
          ...(session ? { expiresAt: session.expiresAt.toISOString() } : {}),
        },
      };
    },
  }),

  defineRoute({
    name: 'deletePanelSession',
    method: 'DELETE',
    path: '/api/panel/session',
    summary:
      'Log out: ends the session the cookie names (if any) and clears the cookie; without a cookie nothing happens',
    tags,
    // Anyone may give up the credential they hold, even with a role revoked or the session expired.
    access: PUBLIC,
    responses: {
      204: { description: 'Logged out (or there was nothing to end)' },
      403: {
        description: '`csrf_check_failed`: a cookie without X-Requested-With, or another site’s Origin',
        schema: errorSchema,
      },
    },
    async handler({ ctx, em, tenantId, log }, deps) {
      const token = requestSessionToken(ctx);
      if (token !== undefined) {
        checkCsrf(ctx);
        if (await endPanelSession(em, tenantId, token)) {
          // Sockets this session opened close too, on whichever instance holds them.
          deps.liveEvents.publish(tenantId, { type: 'session.ended', sessionHash: sessionTokenHash(token) });
          log.info({ event: 'panel_session_ended' }, 'panel logout');
        }
        clearSessionCookie(ctx);
      }
      return { status: 204, body: undefined };
    },
  }),
];
