import { withTimeout } from '../util/with-timeout.ts';
import { type BillingAdapter, BillingTimeoutError } from './billing-adapter.ts';

/**
 * Bounds every call of `adapter`: past `timeoutMs` the caller gets BillingTimeoutError and the
 * provider's request is aborted, so a slow provider never holds a panel page hostage.
 */
export function withBillingTimeout(adapter: BillingAdapter, timeoutMs: number): BillingAdapter {
  return {
    provider: adapter.provider,
    async getSubscriptionsForUsers(userIds, lookup) {
      return withTimeout(
        timeoutMs,
        (signal) => {
          const both = lookup.signal ? AbortSignal.any([signal, lookup.signal]) : signal;
          return adapter.getSubscriptionsForUsers(userIds, { ...lookup, signal: both });
        },
        () => new BillingTimeoutError(userIds.length, timeoutMs),
      );
    },
  };
}
