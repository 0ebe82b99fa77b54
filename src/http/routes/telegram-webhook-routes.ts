import Router from '@koa/router';
import type { Context } from 'koa';
import type { Telegraf } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { Config } from '../../config/env.ts';
import type { Logger } from '../../config/logger.ts';
import { BadRequestError, ServiceUnavailableError, UnauthorizedError } from '../../domain/errors.ts';
import { sameSecret } from '../../security/constant-time.ts';
import { describeBotError } from '../../telegram/bot.ts';

export interface TelegramWebhookRouteDeps {
  config: Config;
  bot: Telegraf;
  logger: Logger;
}

function isUpdate(body: unknown): body is Update {
  return (
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    Number.isSafeInteger((body as { update_id?: unknown }).update_id)
  );
}

/**
 * POST /telegram/webhook: Telegram delivers updates here once setWebhook registered the URL with
 * our secret_token. Anyone can find the URL, so the secret header is the only proof of origin.
 */
export function telegramWebhookRoutes(deps: TelegramWebhookRouteDeps): Router {
  const expected = deps.config.telegram.webhookSecret;
  if (!expected) throw new Error('TELEGRAM_WEBHOOK_SECRET is required to accept webhook updates');
  const router = new Router();

  router.post('/telegram/webhook', async (ctx: Context) => {
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
    const update: unknown = ctx.request.body;
    if (!isUpdate(update)) {
      throw new BadRequestError(
        'invalid_update',
        'The body must be a Telegram Update object with an update_id.',
      );
    }
    if (!deps.bot.botInfo) {
      // Registration at start failed; telegraf would cache a failed getMe forever, so fetch it here
      // and let Telegram redeliver (503) until it works.
      try {
        deps.bot.botInfo = await deps.bot.telegram.getMe();
      } catch (error) {
        const err = describeBotError(error, deps.config.telegram.botToken ?? '');
        (ctx.state.log ?? deps.logger).warn({ event: 'telegram_get_me_failed', err }, 'getMe failed');
        throw new ServiceUnavailableError('telegram_unavailable', 'The Telegram Bot API is unavailable.');
      }
    }
    // Handler errors are caught and logged by bot.catch: answering 200 anyway stops Telegram from
    // redelivering an update that would fail the same way and hold back the ones behind it.
    await deps.bot.handleUpdate(update);
    ctx.body = { ok: true };
  });

  return router;
}
