import { loadConfig } from '../../config/env.ts';
import { checkBotToken } from '../../tenants/bot-token-check.ts';
import { refuseDefaultTenantBot, type TenantChanges, updateTenant } from '../../tenants/tenant-admin.ts';
import { requireSecretBox, withDatabase } from './cli-database.ts';
import {
  type CliCommand,
  type OptionValues,
  optionalInteger,
  optionalString,
  requiredString,
  secretArgument,
  UsageError,
} from './cli-kit.ts';

/** A budget flag: a number, or `default` to fall back to the deployment-wide default again. */
function budget(values: OptionValues, flag: string, max: number): number | null | undefined {
  if (values[flag] === 'default') return null;
  return optionalInteger(values, flag, 1, max);
}

export const tenantUpdate: CliCommand = {
  name: 'tenant:update',
  summary: 'rename a coach, change their budgets or rotate their bot token',
  help: `Usage: npm run cli -- tenant:update --slug <slug> [options]

Changes a tenant. A new bot token is checked with getMe (unless --no-check) and sealed like a new
one; it may be another bot's (a coach moving to a new bot) as long as no other tenant has that bot.
Running processes pick the change up within TENANT_CACHE_MS.

Options:
  --slug <slug>             the tenant to change
  --name <name>             new business name
  --bot-token <token|->     new bot token; "-" reads it from stdin
  --ai-rpm <n|default>      AI requests per minute ("default": the deployment's default)
  --plans-per-day <n|default>  AI plans per day ("default": the deployment's default)
  --no-check                do not call getMe for the new token
  -h, --help                this help`,
  options: {
    slug: { type: 'string' },
    name: { type: 'string' },
    'bot-token': { type: 'string' },
    'ai-rpm': { type: 'string' },
    'plans-per-day': { type: 'string' },
    'no-check': { type: 'boolean' },
  },
  async run(values, io) {
    const slug = requiredString(values, 'slug');
    const changes: TenantChanges = {
      name: optionalString(values, 'name'),
      botToken: await secretArgument(io, values, 'bot-token'),
      aiRequestsPerMinute: budget(values, 'ai-rpm', 100_000),
      aiPlansPerDay: budget(values, 'plans-per-day', 10_000_000),
    };
    if (Object.values(changes).every((value) => value === undefined)) {
      throw new UsageError('nothing to change: give --name, --bot-token, --ai-rpm or --plans-per-day');
    }
    const config = loadConfig(io.env);
    const box = changes.botToken === undefined ? undefined : requireSecretBox(config);
    if (changes.botToken !== undefined) refuseDefaultTenantBot(config.telegram.botToken, changes.botToken);
    if (changes.botToken !== undefined && !values['no-check']) {
      const bot = await checkBotToken(config.telegram.apiRoot, changes.botToken, config.telegram.timeoutMs);
      changes.botUsername = bot.username ?? null;
    }
    const { changed } = await withDatabase(config, (orm) => updateTenant(orm, box, slug, changes));
    io.out(
      changed.length
        ? `Updated tenant "${slug}": ${changed.join(', ')}`
        : `Tenant "${slug}" already was like that.`,
    );
    if (changed.includes('bot token')) {
      io.err('Running processes switch to the new token within TENANT_CACHE_MS.');
    }
    return 0;
  },
};
