import type { MikroORM } from '@mikro-orm/postgresql';
import type { Telegraf } from 'telegraf';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TenantDirectory, TenantProfile } from '../tenants/tenant-directory.ts';
import { createBot, describeBotError, registerWebhook } from './bot.ts';

export interface WebhookBotsDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  metrics: Metrics;
  tenants: TenantDirectory;
}

/**
 * Webhook mode in the web process: one Telegraf per tenant bot, made on first use and kept per
 * token (a new token gets a new bot), and each tenant's webhook registered with Telegram at its
 * own URL and secret. Registration runs at start and again every TENANT_CACHE_MS for tenants not
 * registered yet (created since, or whose last try failed) or whose token changed; a failure is
 * logged and tried again on the next pass, never fatal: the API serves without Telegram.
 */
export function createWebhookBots(deps: WebhookBotsDeps) {
  const { config, logger } = deps;
  const bots = new Map<string, { tenantId: string; bot: Telegraf }>();
  /** Tenant id → the token its webhook was registered with. */
  const registered = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;

  /** The bot of this tenant; undefined when it has none (no token, or one no key opens). */
  function botFor(tenant: TenantProfile): Telegraf | undefined {
    const token = tenant.botToken;
    if (!token) return undefined;
    const cached = bots.get(token);
    if (cached?.tenantId === tenant.id) return cached.bot;
    const bot = createBot({ ...deps, tenant, updates: 'webhook' });
    bots.set(token, { tenantId: tenant.id, bot });
    return bot;
  }

  async function register(tenant: TenantProfile & { botToken: string }): Promise<void> {
    try {
      await registerWebhook(botFor(tenant)!, tenant, config);
      registered.set(tenant.id, tenant.botToken);
      logger.info({ event: 'telegram_webhook_set', tenant: tenant.slug }, 'telegram webhook registered');
    } catch (error) {
      // Fetch errors quote the request URL, which holds the token.
      logger.error(
        {
          event: 'telegram_webhook_setup_failed',
          tenant: tenant.slug,
          err: describeBotError(error, tenant.botToken),
        },
        'could not register the telegram webhook',
      );
    }
  }

  /** One pass over the directory: registers whoever needs it, forgets bots of removed tenants. */
  async function registerPending(): Promise<void> {
    let tenants: TenantProfile[];
    try {
      tenants = await deps.tenants.list();
    } catch (error) {
      logger.error({ event: 'tenant_directory_unavailable', err: error }, 'could not read the tenants');
      return;
    }
    const tokens = new Set(tenants.map((tenant) => tenant.botToken).filter(Boolean));
    for (const token of bots.keys()) if (!tokens.has(token)) bots.delete(token);
    const ids = new Set(tenants.map((tenant) => tenant.id));
    for (const id of registered.keys()) if (!ids.has(id)) registered.delete(id);
    const pending = tenants.filter(
      (tenant): tenant is TenantProfile & { botToken: string } =>
        tenant.botToken !== undefined &&
        tenant.webhookUrl !== undefined &&
        registered.get(tenant.id) !== tenant.botToken,
    );
    // Tenants are few and each registration is bounded by its own timeout.
    await Promise.all(pending.map(register));
  }

  /** Passes never overlap: a slow Telegram must not pile them up. */
  function runPass(): Promise<void> {
    pass ??= registerPending().finally(() => {
      pass = undefined;
    });
    return pass;
  }

  return {
    botFor,
    /** Registers every tenant's webhook now (awaited at start), then keeps registering new ones. */
    async start(): Promise<void> {
      await runPass();
      timer ??= setInterval(() => void runPass(), config.tenants.cacheMs);
      timer.unref();
    },
    /** One registration pass now, as the timer would run it (tests, or after a tenant:create). */
    registerPending: runPass,
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await pass;
    },
  };
}

export type WebhookBots = ReturnType<typeof createWebhookBots>;
