import { z } from 'zod';
import { createSubscriptionInvoice } from '../../billing/billing-actions.ts';
import { listOfferedPlans } from '../../billing/subscription-plans.ts';
import { SUBSCRIPTION_PERIOD_DAYS } from '../../db/entities/subscription-plan.entity.ts';
import { TooManyRequestsError } from '../../domain/errors.ts';
import type { TenantProfile } from '../../tenants/tenant-directory.ts';
import { MINI_APP } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import type { RouteDeps } from '../routing/route-deps.ts';
import { errorSchema } from '../schemas.ts';
import { createSharedRateLimiter, type SharedRateLimiter } from '../shared-rate-limiter.ts';

/**
 * The documented example plan id. The route fuzz test seeds a plan with this id, so the example
 * body of POST /api/subscriptions reaches Telegram instead of always being a 404.
 */
export const EXAMPLE_OFFERED_PLAN_ID = '3d0f6f0e-8a43-4a5e-9d1c-7b2f5e9a4c21';

const tags = ['Mini App: billing'];

/**
 * Each invoice is a Bot API call on the coach's bot token: without a cap one Mini App user could
 * spend the bot's Telegram rate limit, which every client's messages share.
 */
export const INVOICES_PER_HOUR = 20;
const invoiceLimiters = new WeakMap<RouteDeps, SharedRateLimiter>();

function invoiceLimiter(deps: RouteDeps): SharedRateLimiter {
  let limiter = invoiceLimiters.get(deps);
  if (!limiter) {
    limiter = createSharedRateLimiter({
      redis: deps.redis,
      keyPrefix: `${deps.config.redis.queuePrefix}:invoices`,
      points: INVOICES_PER_HOUR,
      durationSeconds: 3600,
    });
    invoiceLimiters.set(deps, limiter);
  }
  return limiter;
}

export const offeredPlanSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string(),
  priceStars: z.number().int().meta({ description: 'Telegram Stars per 30-day period' }),
  periodDays: z
    .number()
    .int()
    .meta({
      description: `Always ${SUBSCRIPTION_PERIOD_DAYS}: the only period Telegram Stars subscriptions have`,
    }),
});

/** What the billing actions need from the app: the tenant's own bot, and the request's own logger. */
export function billingDeps(deps: RouteDeps, tenant: TenantProfile, log: RouteDeps['logger']) {
  const { stars, invoiceKey } = deps.payments(tenant);
  return { stars, invoiceKey, metrics: deps.metrics, miniAppUrl: tenant.miniAppUrl, log };
}

export const billingRoutes = [
  defineRoute({
    name: 'listOfferedPlans',
    method: 'GET',
    path: '/api/subscription-plans',
    summary: 'Subscription plans on sale, cheapest first (archived plans are not listed)',
    tags,
    access: MINI_APP,
    responses: {
      200: { description: 'The plans', schema: z.object({ items: z.array(offeredPlanSchema) }) },
    },
    async handler({ em }) {
      return { status: 200, body: { items: await listOfferedPlans(em) } };
    },
  }),

  defineRoute({
    name: 'createSubscriptionInvoice',
    method: 'POST',
    path: '/api/subscriptions',
    summary:
      'A Telegram Stars invoice link for a plan (30-day subscription); open it with WebApp.openInvoice',
    tags,
    access: MINI_APP,
    body: z
      .object({ planId: z.uuid() })
      .strict()
      .meta({ examples: [{ planId: EXAMPLE_OFFERED_PLAN_ID }] }),
    responses: {
      201: {
        description: 'The invoice link; the subscription starts when Telegram reports the payment',
        schema: z.object({ invoiceLink: z.string() }),
      },
      404: { description: 'No such plan on sale (`plan_not_found`)', schema: errorSchema },
      409: {
        description: 'Already subscribed for the current period (`already_subscribed`)',
        schema: errorSchema,
      },
      429: {
        description: `Over ${INVOICES_PER_HOUR} invoices this hour (\`invoice_rate_limited\`); see Retry-After`,
        schema: errorSchema,
      },
      502: {
        description: 'Telegram refused to create the invoice (`telegram_refused`)',
        schema: errorSchema,
      },
      503: {
        description:
          'Telegram unreachable (`telegram_unavailable`) or payments not configured (`payments_unavailable`)',
        schema: errorSchema,
      },
    },
    async handler({ body, user, em, tenantId, tenant, log }, deps) {
      const limit = await invoiceLimiter(deps).consume(user.id);
      if (!limit.allowed) {
        throw new TooManyRequestsError(
          'invoice_rate_limited',
          `You can open ${INVOICES_PER_HOUR} invoices per hour; try again later.`,
          limit.retryAfterMs / 1000,
        );
      }
      const invoiceLink = await createSubscriptionInvoice(
        em,
        { tenantId, userId: user.id, planId: body.planId },
        billingDeps(deps, tenant, log),
      );
      return { status: 201, body: { invoiceLink } };
    },
  }),
];
