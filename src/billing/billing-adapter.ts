import type { SubscriptionStatus } from '../db/entities/subscription.entity.ts';

export interface SubscriptionInfo {
  userId: string;
  planName: string;
  status: SubscriptionStatus;
  priceCents: number;
  currency: string;
  currentPeriodEnd: Date | null;
}

export interface BillingLookup {
  tenantId: string;
  /** Aborted when the caller stops waiting (the timeout wrapper), so a provider can drop the request. */
  signal?: AbortSignal;
}

/**
 * Where subscriptions come from. One call per page of clients: providers are remote, so a call per
 * client (N+1) would make the panel as slow as N round trips.
 */
export interface BillingAdapter {
  readonly provider: string;
  /** Users without a subscription are simply absent from the map. */
  getSubscriptionsForUsers(userIds: string[], lookup: BillingLookup): Promise<Map<string, SubscriptionInfo>>;
}

/** The provider did not answer in time; the panel shows subscriptions as unknown instead of failing. */
export class BillingTimeoutError extends Error {
  override name = 'BillingTimeoutError';
  constructor(
    readonly ids: number,
    readonly timeoutMs: number,
  ) {
    super(`Billing provider did not answer for ${ids} users within ${timeoutMs} ms`);
  }
}
