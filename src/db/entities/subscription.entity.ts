import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * active: paid and renewing; cancelled: paid until current_period_end, will not renew;
 * expired: the period ended without a renewal; refunded: ended by a refund.
 */
export const SUBSCRIPTION_STATUSES = ['active', 'cancelled', 'expired', 'refunded'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
export const BILLING_PROVIDERS = ['stars', 'http'] as const;
export type BillingProviderName = (typeof BILLING_PROVIDERS)[number];

/**
 * A client's subscription, one row per user: written by Stars payments and by billing.sync. Every
 * page that shows subscriptions reads this table, never a remote billing service.
 */
export const SubscriptionSchema = defineEntity({
  name: 'Subscription',
  tableName: 'subscription',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid().unique(),
    provider: p.enum(BILLING_PROVIDERS),
    planId: p.uuid().nullable(),
    planTitle: p.string().length(200),
    status: p.enum(SUBSCRIPTION_STATUSES),
    renews: p.boolean(),
    /** Per 30-day period, in the currency's smallest unit (Stars are whole). */
    price: p.integer(),
    currency: p.string().length(3),
    currentPeriodEnd: p.datetime().nullable(),
    /** telegram_payment_charge_id of the payment that paid the current period (Stars). */
    chargeId: p.text().nullable(),
    startedAt: p.datetime(),
    endedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class Subscription extends SubscriptionSchema.class {}
SubscriptionSchema.setClass(Subscription);
