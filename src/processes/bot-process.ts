import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { BOT_ALLOWED_UPDATES, configureBot, createBot, describeBotError } from '../telegram/bot.ts';
import { settledWithin } from '../util/with-timeout.ts';

export interface BotProcessDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  /** The bot process serves no /metrics of its own; payment counters matter in webhook mode. */
  metrics: Metrics;
  /**
   * Polling ended without stop() being asked for (401 bad token, 409 another poller or a webhook
   * took over). Defaults to logging; the `bot` entry point exits so its supervisor restarts it.
   */
  onPollingFailed?(error: unknown): void;
}

/** Why the bot could not start, with the token scrubbed from the underlying error's message. */
export class BotStartError extends Error {
  override name = 'BotStartError';
}

/** Bounded so a stop() during telegraf's retry sleep (up to a 429's retry_after) cannot hang shutdown. */
const STOP_WAIT_MS = 10_000;

/**
 * The bot process: long polling for deployments without a public webhook URL. Only one poller per
 * bot token may run (Telegram answers 409 to a second one), so this process is not scaled out.
 */
export function createBotProcess(deps: BotProcessDeps) {
  const { config, logger } = deps;
  const bot = createBot({ ...deps, updates: 'polling' });
  const token = config.telegram.botToken!;
  let polling: Promise<void> | undefined;
  let stopping = false;

  return {
    bot,
    async start(): Promise<void> {
      try {
        // getMe up front: a bad token fails start() with a clear error instead of dying in the loop.
        bot.botInfo ??= await bot.telegram.getMe();
        await configureBot(bot, config);
        // Telegram refuses getUpdates while a webhook is set; keep pending updates, they are real messages.
        await bot.telegram.deleteWebhook({ drop_pending_updates: false });
      } catch (error) {
        // Fetch errors quote the request URL, which holds the token; boot errors are printed verbatim.
        throw new BotStartError(`Bot API setup failed: ${describeBotError(error, token).message}`);
      }
      // In telegraf 4.16 launch() resolves only when polling ends, so it is kept, not awaited.
      // onLaunch fires once launch() has botInfo (already set above), just before polling begins.
      await new Promise<void>((resolve, reject) => {
        polling = bot.launch({ allowedUpdates: [...BOT_ALLOWED_UPDATES] }, resolve);
        polling.catch(reject);
      });
      const ended = (error: unknown) => {
        if (stopping) return;
        logger.error(
          { event: 'bot_polling_failed', err: describeBotError(error, token) },
          'bot polling failed',
        );
        deps.onPollingFailed?.(error);
      };
      polling!.then(() => ended(new Error('long polling ended without stop()')), ended);
      logger.info({ username: bot.botInfo.username }, 'bot polling started');
    },
    /** Stops polling and waits for the updates already fetched to be handled. */
    async stop(): Promise<void> {
      if (!polling || stopping) return;
      stopping = true;
      try {
        bot.stop('SIGTERM');
      } catch {
        // "Bot is not running!": polling already ended on its own.
      }
      if (!(await settledWithin(polling, STOP_WAIT_MS))) {
        logger.warn('bot polling did not end in time; leaving it behind');
      }
      logger.info('bot stopped');
    },
  };
}

export type BotProcess = ReturnType<typeof createBotProcess>;
