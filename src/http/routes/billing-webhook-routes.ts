import { z } from 'zod';
import { parseSignatureHeader, webhookRequestKey } from '../../billing/webhook-signature.ts';
import { DEFAULT_TENANT_ID } from '../../db/orm.ts';
import { BadRequestError, UnauthorizedError } from '../../domain/errors.ts';
import { enqueueOnce } from '../../queue/outbox-writer.ts';
import { BILLING_WEBHOOK } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { errorSchema, telegramIdString } from '../schemas.ts';

/** The catalogue's billing.sync takes at most this many users per run. */
const MAX_USER_IDS = 1000;

/**
 * Unknown fields are ignored, not refused: the body is signed, so only the billing service can
 * add them, and it may add fields before we read them.
 */
const webhookBodySchema = z
  .object({
    userIds: z.array(telegramIdString).min(1).max(MAX_USER_IDS),
    sentAt: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).meta({ description: 'Unix seconds' }),
  })
  .meta({ examples: [{ userIds: ['279058397'], sentAt: 1_796_000_000 }] });

/**
 * POST /api/billing/webhook: the external billing service (BILLING_PROVIDER=http) names users
 * whose subscriptions changed; we re-read them from it in a billing.sync job rather than trusting
 * the webhook's own word about money. The signature guard (guards.ts) checked the raw body.
 */
export const billingWebhookRoutes = [
  defineRoute({
    name: 'billingWebhook',
    method: 'POST',
    path: '/api/billing/webhook',
    summary:
      'External billing service: these users changed, sync them (HMAC-SHA256 of the raw body in X-Billing-Signature; 404 when BILLING_WEBHOOK_SECRET is unset)',
    tags: ['Billing'],
    access: BILLING_WEBHOOK,
    body: webhookBodySchema,
    responses: {
      202: {
        description: 'A sync of these users is queued; a redelivery of the same body is the same job',
        schema: z.object({ queued: z.literal(true) }),
      },
      400: {
        description: 'X-Tenant names a tenant other than the default (`tenant_not_supported`)',
        schema: errorSchema,
      },
      401: {
        description:
          'Missing or wrong signature (`invalid_signature`), or sentAt outside the replay window (`stale_webhook`)',
        schema: errorSchema,
      },
    },
    async handler({ body, em, tenantId, ctx }, deps) {
      // The service knows users by Telegram id only and X-Tenant is not covered by its signature:
      // its webhook is the default tenant's (other tenants bill in Stars), never another's by header.
      if (tenantId !== DEFAULT_TENANT_ID) {
        throw new BadRequestError(
          'tenant_not_supported',
          'The billing webhook serves the default tenant only; send it without X-Tenant.',
        );
      }
      // Checked after the signature, so sentAt is the sender's own: a captured delivery replayed
      // later is refused, and one replayed inside the window is the same job (below).
      const ageSeconds = Math.abs(Date.now() / 1000 - body.sentAt);
      if (ageSeconds > deps.config.billing.webhookToleranceSeconds) {
        throw new UnauthorizedError(
          'stale_webhook',
          `sentAt is more than ${deps.config.billing.webhookToleranceSeconds} s away from our clock.`,
        );
      }
      const signature = parseSignatureHeader(ctx.get('x-billing-signature'))!;
      await enqueueOnce(em, 'billing.sync', [
        {
          tenantId,
          trigger: 'webhook',
          telegramIds: [...new Set(body.userIds)],
          requestKey: webhookRequestKey(signature),
        },
      ]);
      return { status: 202, body: { queued: true as const } };
    },
  }),
];
