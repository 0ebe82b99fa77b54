import type { MikroORM } from '@mikro-orm/postgresql';
import { Subscription } from '../db/entities/index.ts';
import { forkForTenant } from '../db/orm.ts';
import type { BillingAdapter, SubscriptionInfo } from './billing-adapter.ts';

/** Subscriptions kept in our own `subscription` table; read from a replica like every panel list. */
export function localBillingAdapter(orm: MikroORM): BillingAdapter {
  return {
    provider: 'local',
    async getSubscriptionsForUsers(userIds, { tenantId }) {
      const result = new Map<string, SubscriptionInfo>();
      if (userIds.length === 0) return result;
      const em = forkForTenant(orm, tenantId);
      const rows = await em.find(Subscription, { userId: { $in: userIds } }, { connectionType: 'read' });
      for (const row of rows) {
        result.set(row.userId, {
          userId: row.userId,
          planName: row.planName,
          status: row.status,
          priceCents: row.priceCents,
          currency: row.currency,
          currentPeriodEnd: row.currentPeriodEnd ?? null,
        });
      }
      return result;
    },
  };
}
