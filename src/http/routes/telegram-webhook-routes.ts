import { z } from 'zod';
import { ServiceUnavailableError } from '../../domain/errors.ts';
import { describeBotError } from '../../telegram/bot.ts';
import { PaymentNotRecordedError } from '../../telegram/bot-payments.ts';
import { defineRoute } from '../routing/define-route.ts';

/** Only update_id is ours to check; the rest is Telegram's Update object, handled by telegraf. */
const updateSchema = z
  .looseObject({ update_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
  .meta({ description: 'A Telegram Update object', examples: [{ update_id: 1 }] });

/**
 * POST /telegram/webhook: Telegram delivers updates here once setWebhook registered the URL with
 * our secret_token. Anyone can find the URL, so the secret header is the only proof of origin.
 */
export const telegramWebhookRoutes = [
  defineRoute({
    name: 'telegramWebhook',
    method: 'POST',
    path: '/telegram/webhook',
    summary: 'Telegram updates (webhook mode only; 404 with long polling)',
    tags: ['Telegram'],
    access: { kind: 'webhook' },
    body: updateSchema,
    responses: {
      200: {
        description: 'Handled (handler errors are logged, not redelivered)',
        schema: z.object({ ok: z.literal(true) }),
      },
      503: {
        description:
          'The Bot API is unreachable, or a payment could not be recorded yet; Telegram redelivers',
      },
    },
    async handler({ body, log }, deps) {
      const bot = deps.bot!;
      if (!bot.botInfo) {
        // Registration at start failed; telegraf would cache a failed getMe forever, so fetch it here
        // and let Telegram redeliver (503) until it works.
        try {
          bot.botInfo = await bot.telegram.getMe();
        } catch (error) {
          const err = describeBotError(error, deps.config.telegram.botToken ?? '');
          log.warn({ event: 'telegram_get_me_failed', err }, 'getMe failed');
          throw new ServiceUnavailableError('telegram_unavailable', 'The Telegram Bot API is unavailable.');
        }
      }
      // Handler errors are caught and logged by bot.catch: answering 200 anyway stops Telegram from
      // redelivering an update that would fail the same way and hold back the ones behind it.
      try {
        await bot.handleUpdate(body as unknown as Parameters<typeof bot.handleUpdate>[0]);
      } catch (error) {
        // Only payments escape bot.catch: Telegram keeps redelivering until one is recorded.
        if (!(error instanceof PaymentNotRecordedError)) throw error;
        throw new ServiceUnavailableError('payment_not_recorded', 'The payment could not be recorded yet.');
      }
      return { status: 200, body: { ok: true as const } };
    },
  }),
];
