import { loadConfig } from '../../config/env.ts';
import { checkBotToken } from '../../tenants/bot-token-check.ts';
import { createTenant, refuseDefaultTenantBot } from '../../tenants/tenant-admin.ts';
import { tenantPageUrl, tenantWebhookUrl } from '../../tenants/tenant-urls.ts';
import { requireSecretBox, withDatabase } from './cli-database.ts';
import {
  type CliCommand,
  optionalInteger,
  optionalString,
  requiredString,
  secretArgument,
  UsageError,
} from './cli-kit.ts';

export const tenantCreate: CliCommand = {
  name: 'tenant:create',
  summary: 'add a coach with their own bot; prints their bot API secret once',
  help: `Usage: npm run cli -- tenant:create --slug <slug> --name <name> --bot-token <token|-> [options]

Adds a coach (tenant) with their own bot. The token is checked with Telegram's getMe first (which
also fills in the bot's username), then sealed with TENANT_SECRET_KEY. Prints the tenant's id,
URLs and its own bot API secret, which is shown this once and never stored in the clear.

Options:
  --slug <slug>          URL name: lower-case letters, digits, inner hyphens (e.g. anna-fit)
  --name <name>          the coach's business name
  --bot-token <token|->  the bot token from @BotFather; "-" reads it from stdin
                         (keeps it out of shell history: ... --bot-token - < token.txt)
  --bot-username <name>  the bot's username, when --no-check skips getMe
  --ai-rpm <n>           AI requests per minute for this tenant (default: AI_TENANT_REQUESTS_PER_MINUTE)
  --plans-per-day <n>    AI plans per day for this tenant (default: AI_TENANT_PLANS_PER_DAY)
  --no-check             do not call getMe (Telegram unreachable from here)
  -h, --help             this help`,
  options: {
    slug: { type: 'string' },
    name: { type: 'string' },
    'bot-token': { type: 'string' },
    'bot-username': { type: 'string' },
    'ai-rpm': { type: 'string' },
    'plans-per-day': { type: 'string' },
    'no-check': { type: 'boolean' },
  },
  async run(values, io) {
    const slug = requiredString(values, 'slug');
    const name = requiredString(values, 'name');
    const botToken = await secretArgument(io, values, 'bot-token');
    if (!botToken) throw new UsageError('--bot-token is required (use "-" to read it from stdin)');
    const aiRequestsPerMinute = optionalInteger(values, 'ai-rpm', 1, 100_000);
    const aiPlansPerDay = optionalInteger(values, 'plans-per-day', 1, 10_000_000);
    let botUsername = optionalString(values, 'bot-username')?.replace(/^@/, '');
    const config = loadConfig(io.env);
    const box = requireSecretBox(config);
    refuseDefaultTenantBot(config.telegram.botToken, botToken);

    if (!values['no-check']) {
      const bot = await checkBotToken(config.telegram.apiRoot, botToken, config.telegram.timeoutMs);
      botUsername = bot.username ?? botUsername;
    }
    const created = await withDatabase(config, (orm) =>
      createTenant(orm, box, {
        slug,
        name,
        botToken,
        botUsername,
        aiRequestsPerMinute,
        aiPlansPerDay,
      }),
    );

    const telegram = config.telegram;
    const miniApp = tenantPageUrl(telegram.miniAppUrl, slug, false);
    const panel = tenantPageUrl(telegram.panelUrl, slug, false);
    const webhook = tenantWebhookUrl(telegram.webhookUrl, slug, false);
    io.out(`Created tenant "${slug}" (${name})`);
    io.out(`  id:            ${created.id}`);
    io.out(`  bot:           ${botUsername ? `@${botUsername}` : '(username unknown)'}`);
    io.out(`  Mini App:      ${miniApp ?? `/app/${slug}/ (set TELEGRAM_MINI_APP_URL for the full URL)`}`);
    io.out(`  panel:         ${panel ?? `/panel/${slug}/`}`);
    io.out(
      `  webhook:       ${webhook ?? '(long polling: TELEGRAM_WEBHOOK_URL is not set)'}${webhook ? ' (registered by the web process)' : ''}`,
    );
    io.out(`  bot API secret: ${created.botApiSecret}`);
    io.err('The bot API secret is shown only this once: store it now (only its digest is kept).');
    return 0;
  },
};
