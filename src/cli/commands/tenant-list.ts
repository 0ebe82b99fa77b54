import { loadConfig } from '../../config/env.ts';
import { createLogger } from '../../config/logger.ts';
import { Tenant } from '../../db/entities/index.ts';
import { createTenantDirectory } from '../../tenants/tenant-directory.ts';
import { withDatabase } from './cli-database.ts';
import { type CliCommand, formatTable } from './cli-kit.ts';

export interface TenantListing {
  slug: string;
  name: string;
  isDefault: boolean;
  botUsername: string | null;
  createdAt: string;
  /** False when the bot cannot be used; `problem` says why. */
  botUsable: boolean;
  problem: string | null;
  aiRequestsPerMinute: number;
  aiPlansPerDay: number;
}

/** The default tenant's token is the environment's, so its absence may be this shell's, not the deployment's. */
const missingToken = (isDefault: boolean) =>
  isDefault ? 'TELEGRAM_BOT_TOKEN is not set (here) and no bot token is stored' : 'no bot token stored';

export const tenantList: CliCommand = {
  name: 'tenant:list',
  summary: 'every coach: slug, name, bot, created, whether the bot works, budgets',
  help: `Usage: npm run cli -- tenant:list [--json]

Lists every tenant, the default one first: slug, name, bot username, when it was created, whether
its bot is usable (a bot token no configured TENANT_SECRET_KEY opens is not) and its AI budgets.
Never prints a secret.

Options:
  --json      one JSON array, for scripts
  -h, --help  this help`,
  options: { json: { type: 'boolean' } },
  async run(values, io) {
    const config = loadConfig(io.env);
    const listing = await withDatabase(config, async (orm) => {
      // The directory opens the sealed tokens exactly as the running processes do; its own error
      // log is silenced here because the problem is printed in the listing instead.
      const directory = createTenantDirectory({ orm, config, logger: createLogger('silent') });
      const profiles = await directory.list();
      const rows = await orm.em.fork({ clear: true }).find(Tenant, {}, { fields: ['id', 'createdAt'] });
      const createdAt = new Map(rows.map((row) => [row.id, row.createdAt]));
      return profiles.map(
        (profile): TenantListing => ({
          slug: profile.slug,
          name: profile.name,
          isDefault: profile.isDefault,
          botUsername: profile.botUsername ?? null,
          createdAt: createdAt.get(profile.id)?.toISOString() ?? '',
          botUsable: !profile.problem && profile.botToken !== undefined,
          problem:
            profile.problem ?? (profile.botToken === undefined ? missingToken(profile.isDefault) : null),
          aiRequestsPerMinute: profile.ai.requestsPerMinute,
          aiPlansPerDay: profile.ai.plansPerDay,
        }),
      );
    });
    if (values.json) {
      io.out(JSON.stringify(listing, null, 2));
      return 0;
    }
    const table = formatTable(
      ['SLUG', 'NAME', 'BOT', 'CREATED', 'BOT USABLE', 'AI/MIN', 'PLANS/DAY'],
      listing.map((tenant) => [
        tenant.isDefault ? `${tenant.slug} (default)` : tenant.slug,
        tenant.name,
        tenant.botUsername ? `@${tenant.botUsername}` : '-',
        tenant.createdAt.slice(0, 10),
        tenant.botUsable ? 'yes' : `NO: ${tenant.problem}`,
        String(tenant.aiRequestsPerMinute),
        String(tenant.aiPlansPerDay),
      ]),
    );
    for (const line of table) io.out(line);
    return 0;
  },
};
