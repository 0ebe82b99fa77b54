import { z } from 'zod';
import { cancelRenewal, refundPayment, requestBillingSync } from '../../billing/billing-actions.ts';
import { createPlan, listAllPlans, updatePlan } from '../../billing/subscription-plans.ts';
import { PLAN_STATUSES } from '../../db/entities/subscription-plan.entity.ts';
import { freeText } from '../../domain/survey-answers.ts';
import { panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { errorSchema, subscriptionSchema, telegramIdString } from '../schemas.ts';
import { billingDeps, offeredPlanSchema } from './billing-routes.ts';

/**
 * The documented example of `:planId`. The route fuzz test seeds a plan with this id, so PATCH
 * bodies reach the handler instead of always being a 404.
 */
export const EXAMPLE_PANEL_PLAN_ID = '9a7e2c54-1b6d-4f0a-8e3c-5d2b7f1a6e90';

const tags = ['Panel: billing'];
// Money: owners only (DESIGN.md, "Roles").
const access = panel('view_revenue');

/** Telegram's invoice limits: title 1-32 characters, description 1-255, 1-10000 Stars per period. */
const title = freeText(32).pipe(z.string().min(1));
const description = freeText(255).pipe(z.string().min(1));
const priceStars = z.number().int().min(1).max(10_000);

const planSchema = offeredPlanSchema.extend({
  status: z.enum(PLAN_STATUSES).meta({ description: 'archived: kept for history, not on sale' }),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const telegramFailures = {
  502: { description: 'Telegram refused (`telegram_refused`, with its reason)', schema: errorSchema },
  503: {
    description:
      'Telegram unreachable (`telegram_unavailable`) or payments not configured (`payments_unavailable`)',
    schema: errorSchema,
  },
} as const;

const chargeId = z
  .string()
  .regex(/^[\x21-\x7e]{1,256}$/, 'must be a Telegram payment charge id')
  .meta({ description: 'telegram_payment_charge_id', examples: ['stxF9kR2m0aQ1Xc7VbPz3LwYtN8uHs4J'] });

export const panelBillingRoutes = [
  defineRoute({
    name: 'listPlans',
    method: 'GET',
    path: '/api/panel/subscription-plans',
    summary: 'Every subscription plan, archived ones included',
    tags,
    access,
    responses: { 200: { description: 'The plans', schema: z.object({ items: z.array(planSchema) }) } },
    async handler({ em }) {
      return { status: 200, body: { items: await listAllPlans(em) } };
    },
  }),

  defineRoute({
    name: 'createPlan',
    method: 'POST',
    path: '/api/panel/subscription-plans',
    summary: 'Put a new 30-day plan on sale (audited)',
    tags,
    access,
    body: z
      .object({ title, description, priceStars })
      .strict()
      .meta({
        examples: [{ title: 'Coaching', description: 'Weekly plan updates and chat', priceStars: 500 }],
      }),
    responses: { 201: { description: 'Created', schema: planSchema } },
    async handler({ body, em, tenantId, user }) {
      const plan = await createPlan(em, { tenantId, actorId: user.id, fields: body });
      return { status: 201, headers: { Location: `/api/panel/subscription-plans/${plan.id}` }, body: plan };
    },
  }),

  defineRoute({
    name: 'updatePlan',
    method: 'PATCH',
    path: '/api/panel/subscription-plans/:planId',
    summary:
      'Edit a plan, or archive / unarchive it with `status` (audited; new prices apply to new invoices)',
    tags,
    access,
    params: z.object({ planId: z.uuid().meta({ examples: [EXAMPLE_PANEL_PLAN_ID] }) }),
    body: z
      .object({
        title: title.optional(),
        description: description.optional(),
        priceStars: priceStars.optional(),
        status: z.enum(PLAN_STATUSES).optional(),
      })
      .strict()
      .refine((changes) => Object.values(changes).some((value) => value !== undefined), 'nothing to change')
      .meta({ examples: [{ priceStars: 450 }, { status: 'archived' }] }),
    responses: {
      200: { description: 'The plan now', schema: planSchema },
      404: { description: 'No such plan (`plan_not_found`)', schema: errorSchema },
    },
    async handler({ params, body, em, tenantId, user }) {
      const plan = await updatePlan(em, { tenantId, actorId: user.id, planId: params.planId, changes: body });
      return { status: 200, body: plan };
    },
  }),

  defineRoute({
    name: 'cancelSubscriptionRenewal',
    method: 'POST',
    path: '/api/panel/clients/:telegramId/subscription/cancel',
    summary: "Stop a client's Stars subscription from renewing; paid time is kept (audited)",
    tags,
    access,
    params: z.object({ telegramId: telegramIdString }),
    responses: {
      200: {
        description: 'The subscription now (also when it was already cancelled)',
        schema: subscriptionSchema,
      },
      404: { description: 'No live subscription (`no_subscription`)', schema: errorSchema },
      409: {
        description:
          'Managed by the external billing service (`managed_externally`), or no payment known yet',
        schema: errorSchema,
      },
      ...telegramFailures,
    },
    async handler({ params, em, tenantId, tenant, user, log }, deps) {
      const view = await cancelRenewal(
        em,
        { tenantId, actorId: user.id, telegramId: params.telegramId },
        billingDeps(deps, tenant, log),
      );
      return { status: 200, body: view };
    },
  }),

  defineRoute({
    name: 'refundPayment',
    method: 'POST',
    path: '/api/panel/payments/:chargeId/refund',
    summary: 'Refund a Stars payment; refunding the current period ends the subscription (audited)',
    tags,
    access,
    params: z.object({ chargeId }),
    responses: {
      200: {
        description: 'Refunded',
        schema: z.object({ chargeId: z.string(), refundedAt: z.string(), subscription: subscriptionSchema }),
      },
      404: { description: 'Unknown charge id (`payment_not_found`)', schema: errorSchema },
      409: { description: 'Already refunded (`already_refunded`)', schema: errorSchema },
      ...telegramFailures,
    },
    async handler({ params, em, tenantId, tenant, user, log }, deps) {
      const result = await refundPayment(
        em,
        { tenantId, actorId: user.id, chargeId: params.chargeId },
        billingDeps(deps, tenant, log),
      );
      return { status: 200, body: result };
    },
  }),

  defineRoute({
    name: 'requestBillingSync',
    method: 'POST',
    path: '/api/panel/billing/sync',
    summary:
      'Sync every subscription with the billing provider now (clicks within a minute are one run; audited)',
    tags,
    access,
    responses: { 202: { description: 'Queued', schema: z.object({ queued: z.literal(true) }) } },
    async handler({ em, tenantId, user }) {
      await requestBillingSync(em, { tenantId, actorId: user.id });
      return { status: 202, body: { queued: true as const } };
    },
  }),
];
