import { defineEntity, p } from '@mikro-orm/postgresql';

export const SUBSCRIPTION_EVENT_KINDS = [
  'started',
  'renewed',
  'cancelled',
  'expired',
  'refunded',
  'changed',
] as const;
export type SubscriptionEventKind = (typeof SUBSCRIPTION_EVENT_KINDS)[number];

/** What happened to a subscription and when: the history behind new, churned and trial-to-paid. */
export const SubscriptionEventSchema = defineEntity({
  name: 'SubscriptionEvent',
  tableName: 'subscription_event',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    kind: p.enum(SUBSCRIPTION_EVENT_KINDS),
    at: p.datetime(),
    /** 'update', 'sync', 'panel' or 'webhook'. */
    source: p.text(),
    detail: p.json<Record<string, unknown>>().default('{}'),
  },
});
export class SubscriptionEvent extends SubscriptionEventSchema.class {}
SubscriptionEventSchema.setClass(SubscriptionEvent);
