import type { Redis } from 'ioredis';
import type { Config } from '../src/config/env.ts';
import { createSendPacer, type SendPacer } from '../src/queue/send-pacer.ts';
import { createTelegramSender, type TelegramSender } from '../src/telegram/telegram-sender.ts';
import type { TenantDirectory, TenantProfile } from '../src/tenants/tenant-directory.ts';

/** One tenant's bot as a job sees it: the tenant (its URLs), a sender and that bot's pacer. */
export interface TenantBot {
  tenant: TenantProfile;
  telegram: TelegramSender;
  pacer: SendPacer;
}

export type TenantBotLookup =
  | { kind: 'ready'; bot: TenantBot }
  /** The tenant exists but has no bot we can use (none configured, or a token no key opens). */
  | { kind: 'no_bot'; tenant: TenantProfile; reason: string }
  /** No such tenant (removed): its messages can never be sent. */
  | { kind: 'unknown_tenant' };

export interface TenantBots {
  botFor(tenantId: string): Promise<TenantBotLookup>;
}

/** The bot's numeric id: the token's part before `:` (public); never throws, unlike tenant-admin's botIdOf. */
export const botIdFromToken = (botToken: string) => botToken.split(':')[0] ?? 'bot';

/**
 * Senders and pacers per bot, built on first use and cached by token: a rotated token gets a
 * fresh pair at the directory's next refresh, and two tenants that share a bot share its budget.
 */
export function createTenantBots(options: {
  tenants: TenantDirectory;
  redis: Redis;
  keyPrefix: string;
  config: Config;
  /** Tests point senders at a fake; default: TELEGRAM_API_ROOT. */
  createSender?: (botToken: string) => TelegramSender;
}): TenantBots {
  const { config } = options;
  const createSender =
    options.createSender ??
    ((botToken: string) =>
      createTelegramSender({
        botToken,
        apiRoot: config.telegram.apiRoot,
        timeoutMs: config.telegram.timeoutMs,
      }));
  const byToken = new Map<string, Omit<TenantBot, 'tenant'>>();

  function forToken(botToken: string): Omit<TenantBot, 'tenant'> {
    let bot = byToken.get(botToken);
    if (!bot) {
      bot = {
        telegram: createSender(botToken),
        pacer: createSendPacer({
          redis: options.redis,
          keyPrefix: options.keyPrefix,
          botId: botIdFromToken(botToken),
          messagesPerSecond: config.telegram.messagesPerSecond,
          requestTimeoutMs: config.telegram.timeoutMs,
        }),
      };
      byToken.set(botToken, bot);
    }
    return bot;
  }

  return {
    async botFor(tenantId) {
      const tenant = await options.tenants.byId(tenantId);
      if (!tenant) return { kind: 'unknown_tenant' };
      if (!tenant.botToken)
        return { kind: 'no_bot', tenant, reason: tenant.problem ?? 'the tenant has no bot token configured' };
      return { kind: 'ready', bot: { tenant, ...forToken(tenant.botToken) } };
    },
  };
}
