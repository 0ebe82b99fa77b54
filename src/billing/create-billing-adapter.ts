import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { BillingAdapter } from './billing-adapter.ts';
import { localBillingAdapter } from './local-billing-adapter.ts';
import { withBillingTimeout } from './with-timeout.ts';

/** The configured provider, always behind the timeout (BILLING_TIMEOUT_MS). */
export function createBillingAdapter(config: Config, orm: MikroORM): BillingAdapter {
  return withBillingTimeout(localBillingAdapter(orm), config.billing.timeoutMs);
}
