import { defineJob } from './job-definition.ts';

/** billing.sync: reconciles a tenant's subscriptions with the billing provider (being built). */
export const syncBillingJob = defineJob('billing.sync', {
  async handle({ tenantId }, _deps, ctx) {
    ctx.log.info({ event: 'billing_sync_skipped', tenantId }, 'billing sync not implemented yet');
  },
});
