import { defineEntity, p } from '@mikro-orm/postgresql';

/**
 * One row per Telegram Stars payment, keyed by Telegram's charge id: the primary key is what makes
 * a redelivered `successful_payment` (or the same payment seen by the sync) count once.
 */
export const StarPaymentSchema = defineEntity({
  name: 'StarPayment',
  tableName: 'star_payment',
  properties: {
    tenantId: p.uuid().primary(),
    chargeId: p.text().primary(),
    userId: p.uuid(),
    subscriptionId: p.uuid().nullable(),
    planId: p.uuid().nullable(),
    amount: p.integer(),
    currency: p.string().length(3),
    invoicePayload: p.text(),
    isRecurring: p.boolean(),
    isFirstRecurring: p.boolean(),
    expiresAt: p.datetime().nullable(),
    paidAt: p.datetime(),
    refundedAt: p.datetime().nullable(),
    /** 'update' (the bot got it), 'sync' (found by billing.sync) or 'panel'. */
    recordedBy: p.text(),
  },
});
export class StarPayment extends StarPaymentSchema.class {}
StarPaymentSchema.setClass(StarPayment);
