import type { Config } from '../config/env.ts';
import { UnauthorizedError } from '../domain/errors.ts';
import { upsertTelegramUser } from '../domain/users.ts';
import { InitDataError, validateInitData } from '../telegram/init-data.ts';
import { startAuthAttempt } from './auth-attempt.ts';
import type { AppContext as Context, Next } from './request-state.ts';

/**
 * `Authorization: tma <initData>` → ctx.state.user, or 401. The raw string is never logged.
 * initData must be signed by the bot of the request's tenant (X-Tenant): initData of one coach's
 * bot opens nothing at another coach's. Counts every attempt (telegram_auth_total,
 * telegram_auth_errors_total by reason) and times it.
 */
export function tmaAuth(config: Config) {
  return async (ctx: Context, next: Next) => {
    const botToken = ctx.state.tenant.botToken;
    const attempt = startAuthAttempt(ctx.state.metrics);
    const fail = attempt.failed;
    const header = ctx.get('authorization');
    const match = /^tma (.+)$/s.exec(header);
    if (!match) {
      fail('missing');
      ctx.state.log?.info({ event: 'telegram_auth_failed', reason: 'missing' }, 'no initData');
      throw new UnauthorizedError(
        'missing_credentials',
        'Send the Mini App initData as "Authorization: tma <initData>".',
      );
    }
    if (!botToken)
      throw new UnauthorizedError('auth_not_configured', 'Mini App authentication is not configured.');
    let validated: ReturnType<typeof validateInitData>;
    try {
      validated = validateInitData(match[1], {
        botToken,
        maxAgeSeconds: config.telegram.initDataMaxAgeSeconds,
      });
    } catch (error) {
      if (error instanceof InitDataError) {
        fail(error.reason);
        ctx.state.log?.info({ event: 'telegram_auth_failed', reason: error.reason }, 'initData rejected');
        const message =
          error.reason === 'expired'
            ? 'The Mini App session has expired; reopen the app.'
            : 'The Mini App credentials are invalid.';
        throw new UnauthorizedError(
          error.reason === 'expired' ? 'init_data_expired' : 'invalid_init_data',
          message,
        );
      }
      throw error;
    }
    ctx.state.user = await upsertTelegramUser(ctx.state.em, ctx.state.tenantId, validated.user);
    // The request's own logger (request-context.ts made it for this request): binding the user to
    // it gives the same lines as a child logger without building one more on every request.
    ctx.state.log.setBindings({ userId: ctx.state.user.id });
    attempt.succeeded();
    ctx.state.log.info({ event: 'telegram_auth_success' }, 'initData accepted');
    await next();
  };
}
