import { runBillingSync } from '../src/billing/billing-sync.ts';
import { BillingSyncError } from '../src/billing/billing-sync-error.ts';
import { defineJob } from './job-definition.ts';

/**
 * billing.sync: brings a tenant's local subscriptions in line with its billing provider (Telegram
 * Stars transactions, or the external billing service) and ends lapsed Stars subscriptions
 * (src/billing/billing-sync.ts). Safe to run twice or side by side: every write is keyed (charge
 * id, one row per user) and decided again under the user's lock.
 *
 * A provider that is down, slow or answers nonsense fails the attempt (the queue retries with its
 * backoff, no sooner than a Retry-After); PostgreSQL or Redis being down is the runner's outage
 * handling, as for every job.
 */
export const syncBillingJob = defineJob('billing.sync', {
  async handle({ tenantId, telegramIds, trigger }, deps, ctx) {
    const tenant = await deps.tenants.byId(tenantId);
    // A removed tenant's scheduler is removed too (src/queue/tenant-schedulers.ts); nothing to sync.
    if (!tenant) return ctx.fail(`tenant ${tenantId} no longer exists`);
    try {
      const summary = await runBillingSync({
        orm: deps.orm,
        metrics: deps.metrics,
        log: ctx.log,
        billing: deps.billing,
        miniAppUrl: tenant.miniAppUrl,
        tenantId,
        ...(telegramIds ? { telegramIds } : {}),
      });
      ctx.log.info({ event: 'billing_synced', tenantId, trigger, ...summary }, 'billing synced');
      // A long Stars backlog: carry on from the stored offset in a fresh run, no attempt spent.
      if (summary.more) return ctx.delay(0);
    } catch (error) {
      if (error instanceof BillingSyncError && error.retryAfterMs) {
        return ctx.retryAfter(error.retryAfterMs, error.message);
      }
      throw error;
    }
  },
});
