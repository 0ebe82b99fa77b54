import test from 'ava';
import { createBillingSyncDeps } from '../src/billing/billing-sync.ts';
import { loadConfig } from '../src/config/env.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';

/**
 * The external billing service names users by Telegram id only, and one person is a different
 * client at each coach: its answers may only ever land in the default tenant. Every other tenant
 * is billed in Stars by its own bot, whatever BILLING_PROVIDER says.
 */
test('with BILLING_PROVIDER=http only the default tenant syncs with the service; others use their own bot', async (t) => {
  const config = loadConfig({
    BILLING_PROVIDER: 'http',
    BILLING_URL: 'http://127.0.0.1:9/billing',
    TELEGRAM_BOT_TOKEN: '1000000001:AAFakeSandboxTokenForLocalDevelopment',
  });
  const tokens: Record<string, string> = { 'tenant-b': '2000000001:AAFakeTenantTokenbBotbBotbBot' };
  const deps = createBillingSyncDeps(config, async (tenantId) => tokens[tenantId]);
  t.is((await deps.sourceFor(DEFAULT_TENANT_ID)).name, 'http');
  const other = await deps.sourceFor('tenant-b');
  t.is(other.name, 'stars');
  t.truthy(other.name === 'stars' && other.telegram, "b's own bot answers for b's payments");
});
