import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createTenantPoller, type TenantPoller } from '../telegram/tenant-poller.ts';
import {
  createTenantDirectory,
  type TenantDirectory,
  type TenantProfile,
} from '../tenants/tenant-directory.ts';

export interface BotProcessDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  /** The bot process serves no /metrics of its own; payment counters matter in webhook mode. */
  metrics: Metrics;
  /** Defaults to a directory of its own over the tenant table. */
  tenants?: TenantDirectory;
  /** Waits between a bot's failed attempts (tenant-poller.ts); tests shorten them. */
  retryDelaysMs?: readonly number[];
}

/** Why the bot process could not start, with every token scrubbed from the underlying errors. */
export class BotStartError extends Error {
  override name = 'BotStartError';
}

type PolledTenant = TenantProfile & { botToken: string };

/**
 * The bot process: long polling for deployments without a public webhook URL, one poller per
 * tenant bot in this one process. Every TENANT_CACHE_MS it reads the tenant table again and starts
 * the bot of a new tenant, stops the bot of a removed one and restarts one whose token changed,
 * without a restart of the process. Telegram answers 409 to a second poller of the same token, so
 * this process is not scaled out.
 */
export function createBotProcess(deps: BotProcessDeps) {
  const { config, logger } = deps;
  const directory = deps.tenants ?? createTenantDirectory({ orm: deps.orm, config, logger });
  /** Tenant id → its running poller. */
  const pollers = new Map<string, TenantPoller>();
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;
  let stopping = false;

  /** Brings the pollers in line with the directory; returns the ones it started (not yet awaited). */
  async function reconcile(): Promise<Promise<{ slug: string; ok: boolean; message?: string }>[]> {
    await directory.refresh();
    const wanted = new Map(
      (await directory.list())
        .filter((tenant): tenant is PolledTenant => tenant.botToken !== undefined)
        .map((tenant) => [tenant.id, tenant]),
    );
    const stops: Promise<void>[] = [];
    for (const [id, poller] of pollers) {
      const tenant = wanted.get(id);
      if (tenant?.botToken === poller.token) continue;
      pollers.delete(id);
      logger.info(
        { event: tenant ? 'bot_token_changed' : 'bot_removed', tenant: poller.slug },
        tenant ? 'bot token changed; restarting its polling' : 'tenant bot gone; polling stopped',
      );
      stops.push(poller.stop());
    }
    // The old poller lets go before the new one asks Telegram for the same bot's updates.
    await Promise.all(stops);
    const started = [];
    for (const tenant of wanted.values()) {
      if (stopping || pollers.has(tenant.id)) continue;
      const poller = createTenantPoller({ ...deps, tenant });
      pollers.set(tenant.id, poller);
      started.push(poller.start().then((first) => ({ slug: tenant.slug, ...first })));
    }
    return started;
  }

  /** The periodic pass; passes never overlap, and a failing one (database down) waits for the next. */
  function refresh(): Promise<void> {
    pass ??= reconcile()
      .then((started) => Promise.all(started))
      .then(
        () => {},
        (error) =>
          logger.error({ event: 'tenant_directory_unavailable', err: error }, 'could not read the tenants'),
      )
      .finally(() => {
        pass = undefined;
      });
    return pass;
  }

  async function stopAll(): Promise<void> {
    const all = [...pollers.values()];
    pollers.clear();
    await Promise.all(all.map((poller) => poller.stop()));
  }

  return {
    /** The running pollers by tenant id (tests look at their bots). */
    pollers: pollers as ReadonlyMap<string, TenantPoller>,
    /**
     * Starts every tenant's bot. Fails only when there is no bot at all, or when every bot failed
     * its first attempt (one bot alone with a bad token fails as before, clearly); otherwise the
     * failing ones keep retrying in the background.
     */
    async start(): Promise<void> {
      const first = await Promise.all(await reconcile());
      if (first.length === 0) {
        throw new BotStartError(
          'No bot to poll: set TELEGRAM_BOT_TOKEN, or add a coach with their bot (npm run cli -- tenant:create --slug … --name … --bot-token …).',
        );
      }
      if (first.every((outcome) => !outcome.ok)) {
        await stopAll();
        const reasons = first.map(
          (outcome) => (first.length > 1 ? `${outcome.slug}: ` : '') + outcome.message,
        );
        throw new BotStartError(`Bot API setup failed: ${reasons.join('; ')}`);
      }
      // A SIGTERM during start() ran stop() already: no timer may outlive it.
      if (stopping) {
        await stopAll();
        return;
      }
      timer = setInterval(() => void refresh(), config.tenants.cacheMs);
      logger.info({ event: 'bot_process_started', bots: pollers.size }, 'bot process polling');
    },
    /** One directory pass now, as the timer runs it (tests; a tenant:create needs no call). */
    refresh,
    /** Stops every bot's polling and waits for the updates already fetched to be handled. */
    async stop(): Promise<void> {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      await pass;
      await stopAll();
      logger.info('bot stopped');
    },
  };
}

export type BotProcess = ReturnType<typeof createBotProcess>;
