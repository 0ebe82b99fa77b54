import { z } from 'zod';
import type { Logger } from '../../config/logger.ts';
import { ServiceUnavailableError } from '../../domain/errors.ts';
import { describeBotError } from '../../telegram/bot.ts';
import { PaymentNotRecordedError } from '../../telegram/bot-payments.ts';
import type { TenantProfile } from '../../tenants/tenant-directory.ts';
import { defineRoute } from '../routing/define-route.ts';
import type { RouteDeps } from '../routing/route-deps.ts';

/** Only update_id is ours to check; the rest is Telegram's Update object, handled by telegraf. */
const updateSchema = z
  .looseObject({ update_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
  .meta({ description: 'A Telegram Update object', examples: [{ update_id: 1 }] });

const tenantParams = z.object({
  tenant: z
    .string()
    .meta({ description: "The tenant's slug, as in its webhook URL", examples: ['anna-fit'] }),
});

const responses = {
  200: {
    description: 'Handled (handler errors are logged, not redelivered)',
    schema: z.object({ ok: z.literal(true) }),
  },
  503: {
    description: 'The Bot API is unreachable, or a payment could not be recorded yet; Telegram redelivers',
  },
} as const;

/**
 * Feeds one update to the tenant's bot. The guard (telegram-webhook-guard.ts) has checked the
 * tenant's secret and made it the request's tenant.
 */
async function handleUpdate(
  body: { update_id: number },
  tenant: TenantProfile,
  log: Logger,
  deps: RouteDeps,
) {
  // The guard found this tenant's bot, so there is one.
  const bot = deps.webhookBots!.botFor(tenant)!;
  if (!bot.botInfo) {
    // Registration at start failed; telegraf would cache a failed getMe forever, so fetch it here
    // and let Telegram redeliver (503) until it works.
    try {
      bot.botInfo = await bot.telegram.getMe();
    } catch (error) {
      const err = describeBotError(error, tenant.botToken ?? '');
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
  return { status: 200 as const, body: { ok: true as const } };
}

/**
 * Telegram delivers updates here once setWebhook registered the URL with the bot's secret_token.
 * Anyone can find the URL, so the secret header is the only proof of origin. One URL per bot:
 * the default tenant's is un-prefixed, every other tenant's carries its slug.
 */
export const telegramWebhookRoutes = [
  defineRoute({
    name: 'telegramWebhook',
    method: 'POST',
    path: '/telegram/webhook',
    summary: "Telegram updates for the default tenant's bot (webhook mode only; 404 with long polling)",
    tags: ['Telegram'],
    access: { kind: 'webhook' },
    body: updateSchema,
    responses,
    handler: ({ body, ctx, log }, deps) => handleUpdate(body, ctx.state.tenant, log, deps),
  }),
  defineRoute({
    name: 'telegramTenantWebhook',
    method: 'POST',
    path: '/telegram/webhook/:tenant',
    summary:
      "Telegram updates for one tenant's bot (webhook mode only; 404 with long polling or for an unknown tenant)",
    tags: ['Telegram'],
    access: { kind: 'webhook' },
    params: tenantParams,
    body: updateSchema,
    responses,
    handler: ({ body, ctx, log }, deps) => handleUpdate(body, ctx.state.tenant, log, deps),
  }),
];
