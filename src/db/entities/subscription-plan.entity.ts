import { defineEntity, p } from '@mikro-orm/postgresql';

export const PLAN_STATUSES = ['active', 'archived'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
/** Telegram Stars subscriptions renew every 30 days; it is the only period the Bot API accepts. */
export const SUBSCRIPTION_PERIOD_DAYS = 30;

/** What a coach sells: a monthly subscription paid in Telegram Stars. Archived plans are kept for history. */
export const SubscriptionPlanSchema = defineEntity({
  name: 'SubscriptionPlan',
  tableName: 'subscription_plan',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    /** Telegram's invoice title limit is 32 characters, its description's 255. */
    title: p.string().length(32),
    description: p.string().length(255),
    priceStars: p.integer(),
    periodDays: p.integer().default(SUBSCRIPTION_PERIOD_DAYS),
    status: p.enum(PLAN_STATUSES).default('active'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class SubscriptionPlan extends SubscriptionPlanSchema.class {}
SubscriptionPlanSchema.setClass(SubscriptionPlan);
