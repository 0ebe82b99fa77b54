import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Telegraf } from 'telegraf';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TenantProfile } from '../tenants/tenant-directory.ts';
import { settledWithin, withTimeout } from '../util/with-timeout.ts';
import { BOT_ALLOWED_UPDATES, configureBot, createBot, describeBotError } from './bot.ts';

export interface TenantPollerDeps {
  tenant: TenantProfile & { botToken: string };
  config: Config;
  orm: MikroORM;
  logger: Logger;
  metrics: Metrics;
  /** Waits between failed attempts, the last one repeating; tests shorten them. */
  retryDelaysMs?: readonly number[];
}

/** How the first attempt went: start() reports it, later attempts only log. */
export type FirstAttempt = { ok: true } | { ok: false; message: string };

/** A revoked token or a 409 stays wrong for a while: back off up to a minute, never give up. */
export const POLL_RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 15_000, 30_000, 60_000] as const;
/** Polling that ran this long before failing starts the backoff over. */
const HEALTHY_RUN_MS = 60_000;
/** Bounded so a stop() during telegraf's retry sleep (up to a 429's retry_after) cannot hang shutdown. */
const STOP_WAIT_MS = 10_000;

/**
 * One tenant's bot, long-polling. Setup (getMe, commands, menu button, deleteWebhook) and polling
 * run in a loop: when either fails — a revoked token (401), another poller or a webhook (409), the
 * network — the error is logged with the token scrubbed and the bot tries again after a backoff,
 * until stop(). Other tenants' pollers never notice.
 */
export function createTenantPoller(deps: TenantPollerDeps) {
  const { tenant, config } = deps;
  const token = tenant.botToken;
  const log = deps.logger.child({ tenant: tenant.slug });
  const delays = deps.retryDelaysMs ?? POLL_RETRY_DELAYS_MS;
  const bot = createBot({ ...deps, updates: 'polling' });
  const stopped = new AbortController();
  let loop: Promise<void> | undefined;

  /** Sets the bot up and starts polling; resolves once polling is under way, with the promise of its end. */
  async function launch(): Promise<{ ended: Promise<void> }> {
    const limitMs = config.telegram.timeoutMs * 3;
    await withTimeout(limitMs, async () => {
      // Every attempt asks again: a token revoked since the last one must fail here, clearly.
      bot.botInfo = await bot.telegram.getMe();
      await configureBot(bot, tenant);
      // Telegram refuses getUpdates while a webhook is set; keep pending updates, they are real messages.
      await bot.telegram.deleteWebhook({ drop_pending_updates: false });
    });
    if (stopped.signal.aborted) throw new Error('stopped during setup');
    // In telegraf 4.16 launch() resolves only when polling ends, so it is kept, not awaited.
    return { ended: bot.launch({ allowedUpdates: [...BOT_ALLOWED_UPDATES] }) };
  }

  async function run(reportFirst: (outcome: FirstAttempt) => void): Promise<void> {
    let failures = 0;
    while (!stopped.signal.aborted) {
      let pollingSince: number | undefined;
      try {
        const { ended } = await launch();
        if (stopped.signal.aborted) {
          haltPolling();
          await ended.catch(() => {});
          return;
        }
        pollingSince = Date.now();
        reportFirst({ ok: true });
        log.info(
          { event: 'bot_polling_started', username: bot.botInfo?.username, afterFailures: failures },
          'bot polling started',
        );
        await ended;
        if (stopped.signal.aborted) return;
        throw new Error('long polling ended without stop()');
      } catch (error) {
        if (stopped.signal.aborted) return;
        if (pollingSince !== undefined && Date.now() - pollingSince > HEALTHY_RUN_MS) failures = 0;
        const retryInMs = delays[Math.min(failures, delays.length - 1)]!;
        failures++;
        const err = describeBotError(error, token);
        log.error(
          {
            event: pollingSince === undefined ? 'bot_setup_failed' : 'bot_polling_failed',
            err,
            failures,
            retryInMs,
          },
          pollingSince === undefined ? 'bot setup failed; retrying' : 'bot polling failed; retrying',
        );
        reportFirst({ ok: false, message: String(err.message) });
        await sleep(retryInMs, undefined, { signal: stopped.signal }).catch(() => {});
      }
    }
  }

  function haltPolling(): void {
    try {
      bot.stop('SIGTERM');
    } catch {
      // "Bot is not running!": polling had already ended, or had not begun.
    }
  }

  return {
    tenantId: tenant.id,
    slug: tenant.slug,
    token,
    bot: bot as Telegraf,
    /** Starts the loop; resolves after the first attempt, which may have failed (retries go on). */
    start(): Promise<FirstAttempt> {
      return new Promise((resolve) => {
        let reported = false;
        loop ??= run((outcome) => {
          if (reported) return;
          reported = true;
          resolve(outcome);
        });
        // A stop() before the first attempt ended still settles start().
        void loop.then(() => {
          if (!reported) resolve({ ok: false, message: 'stopped' });
        });
      });
    },
    /** Stops polling and waits for the updates already fetched to be handled. */
    async stop(): Promise<void> {
      if (stopped.signal.aborted) return;
      stopped.abort();
      haltPolling();
      // telegraf only knows it is polling once launch() got past deleteWebhook; until then stop()
      // is "not running", so it is asked again until the loop has ended.
      const halting = setInterval(haltPolling, 100);
      try {
        if (loop && !(await settledWithin(loop, STOP_WAIT_MS))) {
          log.warn({ event: 'bot_stop_timeout' }, 'bot polling did not end in time; leaving it behind');
        }
      } finally {
        clearInterval(halting);
      }
    },
  };
}

export type TenantPoller = ReturnType<typeof createTenantPoller>;
