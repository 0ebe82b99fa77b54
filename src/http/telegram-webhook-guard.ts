import { NotFoundError, UnauthorizedError } from '../domain/errors.ts';
import { sameSecret } from '../security/constant-time.ts';
import type { AppMiddleware as Middleware } from './request-state.ts';
import type { RouteDeps } from './routing/route-deps.ts';

/** Telegram proves a webhook delivery is its own with the secret_token we gave setWebhook. */
export function webhookSecretGuard(
  expected: string | undefined,
  deps: Pick<RouteDeps, 'logger'>,
): Middleware {
  return async (ctx, next) => {
    // Long-polling mode: the endpoint is declared but off, as if it did not exist.
    if (!expected) throw new NotFoundError('not_found', 'No such endpoint.');
    const given = ctx.get('x-telegram-bot-api-secret-token');
    if (!given || !sameSecret(given, expected)) {
      (ctx.state.log ?? deps.logger).warn(
        { event: 'telegram_webhook_secret_mismatch', ip: ctx.ip, present: given !== '' },
        'telegram webhook secret mismatch',
      );
      throw new UnauthorizedError(
        'invalid_webhook_secret',
        'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.',
      );
    }
    await next();
  };
}
