import type { Config } from '../config/env.ts';
import { DEFAULT_TENANT_ID } from '../db/orm.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';

/**
 * The default tenant as the environment alone describes it (TELEGRAM_BOT_TOKEN, TELEGRAM_ADMINS,
 * the configured URLs), which is what the tenant directory reports for it unless its row stores a
 * bot of its own. For what must exist before the directory has been read (the bot handed to the
 * HTTP app at construction) and for tests of one bot.
 */
export function configuredDefaultTenant(config: Config): TenantProfile {
  const telegram = config.telegram;
  return {
    id: DEFAULT_TENANT_ID,
    slug: 'default',
    name: 'Default',
    isDefault: true,
    botToken: telegram.botToken,
    botUsername: telegram.botUsername,
    webhookSecret: telegram.webhookSecret,
    botApiSecretDigest: undefined,
    configuredOwners: telegram.admins,
    miniAppUrl: telegram.miniAppUrl,
    panelUrl: telegram.panelUrl,
    webhookUrl: telegram.webhookUrl,
    ai: { requestsPerMinute: config.tenants.aiRequestsPerMinute, plansPerDay: config.tenants.aiPlansPerDay },
    problem: undefined,
  };
}
