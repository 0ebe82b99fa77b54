import { createStarsClients } from '../billing/stars-clients.ts';
import type { Config } from '../config/env.ts';
import type { StarsApi } from '../telegram/stars-api.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';

/** A tenant's Telegram Stars access: its own bot's methods and the key its invoices are signed with. */
export interface TenantPayments {
  /** Undefined when the tenant has no usable bot. */
  stars: StarsApi | undefined;
  invoiceKey: Buffer | undefined;
}

/** Payments per tenant: its own bot's Stars client (createStarsClients), none without a usable bot. */
export function createTenantPayments(
  config: Config,
  override?: StarsApi,
): (tenant: TenantProfile) => TenantPayments {
  const { apiRoot, timeoutMs } = config.telegram;
  const clients = createStarsClients({ apiRoot, timeoutMs, override });
  return (tenant) => {
    if (!tenant.botToken) return { stars: override, invoiceKey: undefined };
    const client = clients(tenant.botToken);
    return { stars: client.api, invoiceKey: client.invoiceKey };
  };
}
