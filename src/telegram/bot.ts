import type { MikroORM } from '@mikro-orm/postgresql';
import { type Context, Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { InlineKeyboardButton, User } from 'telegraf/types';
import { invoiceKey } from '../billing/invoice-payload.ts';
import { type Config, ConfigError } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { TelegramUser } from '../db/entities/index.ts';
import { forkForTenant } from '../db/orm.ts';
import { effectiveRole } from '../domain/permissions.ts';
import { findLatestPlan } from '../domain/plans.ts';
import { userReachability } from '../domain/user-reachability.ts';
import { type BotUserProfile, registerBotUser } from '../domain/users.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';
import { settledWithin, withTimeout } from '../util/with-timeout.ts';
import { telegrafApiRoot } from './bot-api-call.ts';
import { PaymentNotRecordedError, registerPaymentHandlers } from './bot-payments.ts';
import { botCommands, botTexts, MENU_BUTTON_TEXT } from './bot-texts.ts';

export interface BotDeps {
  /** The coach whose bot this is: its token, users, owners and page URLs. */
  tenant: TenantProfile;
  /** Deployment-wide settings only (Bot API root); everything per coach comes from `tenant`. */
  config: Config;
  orm: MikroORM;
  logger: Logger;
  metrics: Metrics;
  /**
   * How updates arrive. A webhook can ask Telegram to deliver a payment update again (503); long
   * polling cannot without losing the rest of its batch, so there billing.sync recovers it.
   */
  updates: 'webhook' | 'polling';
}

/** Update types the bot handles; setWebhook and long polling both ask Telegram for exactly these. */
export const BOT_ALLOWED_UPDATES = [
  'message',
  'callback_query',
  'my_chat_member',
  'pre_checkout_query',
] as const;

/**
 * A handler stuck on a Bot API call that never answers (telegraf has no request timeout) must not
 * hold a webhook request or the polling batch forever.
 */
const HANDLER_TIMEOUT_MS = 30_000;
const APOLOGY_TIMEOUT_MS = 5_000;

/** Where the Mini App button points: web_app needs https; http (local trial) can only be a link. */
export function miniAppButton(
  miniAppUrl: string | undefined,
  text: string,
): InlineKeyboardButton | undefined {
  if (!miniAppUrl) return undefined;
  if (miniAppUrl.startsWith('https://')) return { text, web_app: { url: miniAppUrl } };
  return { text, url: miniAppUrl };
}

/** One button per row; missing ones (no URL configured) are left out, and no keyboard at all when none is left. */
function withButtons(...buttons: (InlineKeyboardButton | undefined)[]) {
  const rows = buttons.filter((button) => button !== undefined).map((button) => [button]);
  return rows.length ? { reply_markup: { inline_keyboard: rows } } : {};
}

function profileOf(from: User): BotUserProfile {
  return {
    // Telegram user ids fit in 52 bits, so the number telegraf parsed is exact; stored as a decimal string.
    telegramId: String(from.id),
    firstName: from.first_name,
    lastName: from.last_name ?? null,
    username: from.username ?? null,
    languageCode: from.language_code ?? null,
  };
}

/**
 * Errors from telegraf's HTTP client carry the request URL, and the URL carries the bot token
 * (`/bot<token>/sendMessage`); logs get a copy with the token scrubbed, never the error itself.
 */
export function describeBotError(error: unknown, token: string): Record<string, unknown> {
  const secrets = token ? [token, encodeURIComponent(token)] : [];
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  if (!(error instanceof Error)) return { message: scrub(String(error)) };
  const { code, description } = error as { code?: unknown; description?: unknown };
  return {
    type: error.name,
    message: scrub(error.message),
    ...(code !== undefined ? { code } : {}),
    ...(typeof description === 'string' ? { description: scrub(description) } : {}),
    ...(error.stack ? { stack: scrub(error.stack) } : {}),
  };
}

/** Why a tenant has no bot to run, in words an operator can act on. */
export function missingBotReason(tenant: TenantProfile): string {
  if (tenant.problem) return `The bot of tenant "${tenant.slug}" is unusable: ${tenant.problem}`;
  return tenant.isDefault
    ? 'Invalid TELEGRAM_BOT_TOKEN: required to run the bot'
    : `Tenant "${tenant.slug}" has no bot token`;
}

/**
 * One coach's client-facing bot: /start registers and greets, /plan reports the latest plan, /help.
 * Every handler works in that tenant: users, plans and payments are its own, replies go out through
 * its token. Transport-agnostic — the web process feeds it webhook updates, the bot process long-polls.
 */
export function createBot(deps: BotDeps): Telegraf {
  const { config, orm, tenant } = deps;
  const token = tenant.botToken;
  if (!token) throw new ConfigError(missingBotReason(tenant));
  const tenantId = tenant.id;
  const logger = deps.logger.child({ tenant: tenant.slug });
  // webhookReply off: every reply is a real request we can await.
  const bot = new Telegraf(token, {
    telegram: { apiRoot: telegrafApiRoot(config.telegram.apiRoot), webhookReply: false },
    handlerTimeout: HANDLER_TIMEOUT_MS,
  });
  const appButton = (text: string) => withButtons(miniAppButton(tenant.miniAppUrl, text));
  // The panel opens like the Mini App (web_app for https, a link for http), and only for admins.
  const panelButton = (text: string) => miniAppButton(tenant.panelUrl, text);
  const isAdmin = (user: { telegramId: string; role: TelegramUser['role'] } | null, telegramId: number) =>
    effectiveRole(user ?? { telegramId: String(telegramId), role: null }, tenant.configuredOwners) !== null;

  // One-to-one only: in a group, /start would register bystanders and /plan would read a plan aloud.
  bot.use(async (ctx, next) => {
    if (ctx.chat && ctx.chat.type !== 'private') return;
    await next();
  });

  bot.start(async (ctx) => {
    const { user } = await registerBotUser(forkForTenant(orm, tenantId), tenantId, profileOf(ctx.from));
    const texts = botTexts(ctx.from.language_code);
    await ctx.reply(
      texts.greeting(ctx.from.first_name),
      withButtons(
        miniAppButton(tenant.miniAppUrl, texts.openAppButton),
        isAdmin(user, ctx.from.id) ? panelButton(texts.panelButton) : undefined,
      ),
    );
  });

  // The coach's way to the panel; for everyone else it is a command the bot does not know.
  bot.command('panel', async (ctx) => {
    const user = await forkForTenant(orm, tenantId).findOne(TelegramUser, {
      tenantId,
      telegramId: String(ctx.from.id),
    });
    const texts = botTexts(ctx.from.language_code ?? user?.languageCode);
    if (!isAdmin(user, ctx.from.id)) {
      await ctx.reply(texts.fallback);
      return;
    }
    const button = panelButton(texts.panelButton);
    await ctx.reply(button ? texts.panel : texts.panelNotConfigured, withButtons(button));
  });

  bot.command('plan', async (ctx) => {
    const em = forkForTenant(orm, tenantId);
    const user = await em.findOne(TelegramUser, {
      tenantId,
      telegramId: String(ctx.from.id),
    });
    const plan = user ? await findLatestPlan(em, user.id) : null;
    const texts = botTexts(ctx.from.language_code ?? user?.languageCode);
    const button = plan?.status === 'ready' ? texts.openPlanButton : texts.openAppButton;
    await ctx.reply(texts.planStatus(plan), appButton(button));
  });

  bot.help(async (ctx) => {
    const texts = botTexts(ctx.from.language_code);
    await ctx.reply(texts.help, appButton(texts.openAppButton));
  });

  registerPaymentHandlers(bot, {
    tenantId,
    orm,
    logger,
    metrics: deps.metrics,
    invoiceKey: invoiceKey(token),
    miniAppUrl: tenant.miniAppUrl,
  });

  bot.on(message('text'), async (ctx) => {
    await ctx.reply(botTexts(ctx.from.language_code).fallback);
  });

  // We send no inline callback buttons today; answering stops a stale button's spinner.
  bot.on('callback_query', (ctx) => ctx.answerCbQuery());

  // Telegram tells us when a client blocks or unblocks the bot: keep the notifier from wasting sends.
  bot.on('my_chat_member', async (ctx) => {
    const status = ctx.myChatMember.new_chat_member.status;
    const where = { tenantId, telegramId: String(ctx.myChatMember.from.id) };
    const em = forkForTenant(orm, tenantId);
    if (status === 'kicked') await userReachability.blockedBot(em, where);
    else if (status === 'member') await userReachability.reachableAgain(em, where);
  });

  bot.catch(async (error: unknown, ctx: Context) => {
    // Money must not be dropped: the webhook answers 503 and Telegram delivers the update again.
    // A poller that threw would end its loop and confirm the whole batch to Telegram, losing the
    // other updates too; the next billing.sync reads the payment from getStarTransactions instead.
    if (error instanceof PaymentNotRecordedError) {
      const webhook = deps.updates === 'webhook';
      logger.error(
        { event: 'stars_payment_not_recorded', updateId: ctx.update.update_id, err: error.cause },
        webhook
          ? 'payment update not recorded; asking Telegram to redeliver'
          : 'payment update not recorded; the next billing sync will record it',
      );
      if (webhook) throw error;
      return;
    }
    logger.error(
      {
        event: 'bot_update_failed',
        updateId: ctx.update.update_id,
        updateType: ctx.updateType,
        err: describeBotError(error, token),
      },
      'bot update failed',
    );
    // Silence after a command reads as "the bot is dead"; an apology is worth one best-effort try.
    if (ctx.updateType === 'message' && ctx.chat?.type === 'private') {
      await settledWithin(
        ctx.reply(botTexts(ctx.from?.language_code).somethingWentWrong),
        APOLOGY_TIMEOUT_MS,
      );
    }
  });

  return bot;
}

/** Commands (English, plus Russian for Russian-language clients) and the menu button that opens the Mini App. */
export async function configureBot(bot: Telegraf, tenant: Pick<TenantProfile, 'miniAppUrl'>): Promise<void> {
  await bot.telegram.setMyCommands(botCommands('en'));
  await bot.telegram.setMyCommands(botCommands('ru'), { language_code: 'ru' });
  const url = tenant.miniAppUrl;
  // Without an https Mini App, reset to the default button rather than leave a stale web_app one.
  await bot.telegram.setChatMenuButton({
    menuButton: url?.startsWith('https://')
      ? { type: 'web_app', text: MENU_BUTTON_TEXT, web_app: { url } }
      : { type: 'default' },
  });
}

/** Registration calls Telegram three or four times; telegraf has no timeout, so we bound the lot. */
export class WebhookSetupTimeoutError extends Error {
  override name = 'WebhookSetupTimeoutError';
}

/**
 * Webhook mode: fetch botInfo (so no update waits on getMe), set commands and menu button, and
 * register the tenant's URL with its own secret. Every web instance does this at start;
 * setWebhook is idempotent.
 */
export async function registerWebhook(
  bot: Telegraf,
  tenant: Pick<TenantProfile, 'slug' | 'miniAppUrl' | 'webhookUrl' | 'webhookSecret'>,
  config: Config,
): Promise<void> {
  const url = tenant.webhookUrl;
  if (!url) throw new ConfigError('Invalid TELEGRAM_WEBHOOK_URL: required to register a webhook');
  // Without a secret anyone could post updates as Telegram; the guard refuses them all anyway.
  if (!tenant.webhookSecret) throw new ConfigError(`Tenant "${tenant.slug}" has no webhook secret`);
  const secret = tenant.webhookSecret;
  const register = async () => {
    bot.botInfo ??= await bot.telegram.getMe();
    await configureBot(bot, tenant);
    await bot.telegram.setWebhook(url, {
      secret_token: secret,
      allowed_updates: [...BOT_ALLOWED_UPDATES],
      max_connections: config.telegram.webhookMaxConnections,
      drop_pending_updates: false,
    });
  };
  const limitMs = config.telegram.timeoutMs * 3;
  await withTimeout(
    limitMs,
    () => register(),
    () => new WebhookSetupTimeoutError(`Telegram did not answer within ${limitMs} ms`),
  );
}
