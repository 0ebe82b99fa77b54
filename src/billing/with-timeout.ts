import { type BillingAdapter, BillingTimeoutError } from './billing-adapter.ts';

/**
 * Bounds every call of `adapter`: past `timeoutMs` the caller gets BillingTimeoutError and the
 * provider's request is aborted, so a slow provider never holds a panel page hostage.
 */
export function withTimeout(adapter: BillingAdapter, timeoutMs: number): BillingAdapter {
  return {
    provider: adapter.provider,
    async getSubscriptionsForUsers(userIds, lookup) {
      const controller = new AbortController();
      lookup.signal?.addEventListener('abort', () => controller.abort(lookup.signal?.reason), { once: true });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new BillingTimeoutError(userIds.length, timeoutMs);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      const call = adapter.getSubscriptionsForUsers(userIds, { ...lookup, signal: controller.signal });
      // The losing call may still reject later; nobody is waiting for it any more.
      call.catch(() => {});
      try {
        return await Promise.race([call, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
