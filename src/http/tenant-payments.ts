import { invoiceKey } from '../billing/invoice-payload.ts';
import type { Config } from '../config/env.ts';
import { createStarsApi, type StarsApi } from '../telegram/stars-api.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';

/** A tenant's Telegram Stars access: its own bot's methods and the key its invoices are signed with. */
export interface TenantPayments {
  /** Undefined when the tenant has no usable bot. */
  stars: StarsApi | undefined;
  invoiceKey: Buffer | undefined;
}

/** Tokens are few (one per coach); a map this large means rotations piled up, so it starts over. */
const MAX_CACHED_BOTS = 1_000;

/**
 * Payments per tenant: a StarsApi per bot token, built on first use and kept (a rotated token gets
 * a new entry, the old one goes with the next reset). A test's `override` answers for every tenant,
 * while the invoice key still comes from each tenant's own token: a payload signed for one coach's
 * bot never verifies for another's.
 */
export function createTenantPayments(
  config: Config,
  override?: StarsApi,
): (tenant: TenantProfile) => TenantPayments {
  const byToken = new Map<string, TenantPayments>();
  return (tenant) => {
    const botToken = tenant.botToken;
    if (!botToken) return { stars: override, invoiceKey: undefined };
    let payments = byToken.get(botToken);
    if (!payments) {
      if (byToken.size >= MAX_CACHED_BOTS) byToken.clear();
      const { apiRoot, timeoutMs } = config.telegram;
      payments = {
        stars: override ?? createStarsApi({ botToken, apiRoot, timeoutMs }),
        invoiceKey: invoiceKey(botToken),
      };
      byToken.set(botToken, payments);
    }
    return payments;
  };
}
