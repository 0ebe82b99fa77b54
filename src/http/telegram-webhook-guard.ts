import { DEFAULT_TENANT_ID } from '../db/orm.ts';
import { NotFoundError, UnauthorizedError } from '../domain/errors.ts';
import { sameSecret } from '../security/constant-time.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';
import { TENANT_SLUG_PATTERN } from '../tenants/tenant-urls.ts';
import type { AppContext, AppMiddleware as Middleware } from './request-state.ts';
import type { RouteDeps } from './routing/route-deps.ts';
import { useTenant } from './tenant-resolution.ts';

/**
 * Telegram proves a webhook delivery is its own with the secret_token we gave setWebhook, and each
 * tenant's bot has its own: `/telegram/webhook` is the default tenant's (TELEGRAM_WEBHOOK_SECRET),
 * `/telegram/webhook/<slug>` that tenant's. The tenant it names becomes the request's tenant.
 */
export function telegramWebhookGuard(
  deps: Pick<RouteDeps, 'logger' | 'orm' | 'tenants' | 'webhookBots'>,
): Middleware {
  return async (ctx, next) => {
    const tenant = await webhookTenant(ctx, deps);
    const expected = tenant?.webhookSecret;
    // Long-polling mode, an unknown tenant, or one without a usable bot: as if the path did not
    // exist (a known tenant's URL with a wrong secret is 401; slugs are public in page URLs anyway).
    if (!tenant || !expected || !deps.webhookBots?.botFor(tenant)) {
      throw new NotFoundError('not_found', 'No such endpoint.');
    }
    const given = ctx.get('x-telegram-bot-api-secret-token');
    if (!given || !sameSecret(given, expected)) {
      (ctx.state.log ?? deps.logger).warn(
        { event: 'telegram_webhook_secret_mismatch', tenant: tenant.slug, ip: ctx.ip, present: given !== '' },
        'telegram webhook secret mismatch',
      );
      throw new UnauthorizedError(
        'invalid_webhook_secret',
        'The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.',
      );
    }
    useTenant(ctx, deps.orm, tenant);
    await next();
  };
}

async function webhookTenant(
  ctx: AppContext,
  deps: Pick<RouteDeps, 'tenants' | 'webhookBots'>,
): Promise<TenantProfile | undefined> {
  if (!deps.webhookBots) return undefined;
  const slug = (ctx as { params?: Record<string, string | undefined> }).params?.tenant;
  if (slug === undefined) return deps.tenants.byId(DEFAULT_TENANT_ID);
  // A slug that cannot exist needs no lookup; the default tenant's webhook is the un-prefixed one.
  if (!TENANT_SLUG_PATTERN.test(slug)) return undefined;
  // The router decodes parameters; the URL we registered spells the slug plainly, and like every
  // other path it matches only exactly (`/telegram/webhook/%62` is not b's).
  if (!ctx.path.endsWith(`/${slug}`)) return undefined;
  const tenant = await deps.tenants.bySlug(slug);
  return tenant?.isDefault ? undefined : tenant;
}
