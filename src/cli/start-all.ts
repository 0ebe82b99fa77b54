import { createWorkerProcess } from '../../workers/worker-process.ts';
import { type Config, loadConfig, panelUrlFrom } from '../config/env.ts';
import { createLogger } from '../config/logger.ts';
import { redisTargetOf } from '../config/redis-cluster.ts';
import { createOrm, migrateUp } from '../db/orm.ts';
import { startEmbeddedPostgres } from '../dev/embedded-postgres.ts';
import { startFakeTelegramBotApi } from '../dev/fake-telegram-bot-api.ts';
import { ensureLocalRedis } from '../dev/local-redis.ts';
import { createMetrics } from '../observability/metrics.ts';
import { createWorkerServices } from '../processes/boot.ts';
import { createBotProcess } from '../processes/bot-process.ts';
import { exitOnBootError, type Stoppable, stopOnSignal } from '../processes/run-until-signal.ts';
import { createWebProcess } from '../processes/web-process.ts';
import { signedLaunchUrl } from '../telegram/launch-link.ts';

/**
 * `npm start`: the whole system in one process for a single machine or a trial. Missing
 * DATABASE_URL → embedded PostgreSQL in .data/; missing REDIS_URL → local Redis (started if
 * needed); missing TELEGRAM_BOT_TOKEN → a local sandbox Bot API that prints messages it receives.
 */
const say = (line: string) => process.stdout.write(`${line}\n`);
const stoppables: Stoppable[] = [];
/** In the sandbox, a client and the coach (an owner) to open the pages as. */
const SANDBOX_CLIENT = { id: 100000001, first_name: 'Alex', language_code: 'en' };
const SANDBOX_COACH = { id: 100000002, first_name: 'Coach', language_code: 'en' };

try {
  let config: Config = loadConfig();
  const logger = createLogger(config.logLevel);
  const dataRoot = process.env.DATA_DIR ?? '.data';

  const databaseUrl = config.database.url ?? (await startEmbeddedPostgres(dataRoot, say).then(remember)).url;
  const redisTarget =
    redisTargetOf(config.redis) ?? (await ensureLocalRedis(dataRoot, say).then(remember)).url;
  let botToken = config.telegram.botToken;
  if (!botToken) {
    const sandbox = remember(
      await startFakeTelegramBotApi({
        onMessage: (message) =>
          say(`[sandbox bot] → chat ${message.chatId}: ${message.text.replace(/\n/g, ' ')}`),
      }),
    );
    botToken = sandbox.token;
    const admins = config.telegram.admins.length ? config.telegram.admins : [String(SANDBOX_COACH.id)];
    // The sandbox bot's "Open my plan" and panel buttons point at this server. Only the sandbox:
    // the real Bot API refuses localhost button URLs, which would fail every reply with a button.
    const miniAppUrl = config.telegram.miniAppUrl ?? `http://localhost:${config.http.port}/app/`;
    const panelUrl = config.telegram.panelUrl ?? panelUrlFrom(miniAppUrl);
    config = {
      ...config,
      telegram: { ...config.telegram, botToken, apiRoot: sandbox.apiRoot, admins, miniAppUrl, panelUrl },
    };
  }
  config = {
    ...config,
    database: { ...config.database, url: databaseUrl },
    redis: { ...config.redis, url: typeof redisTarget === 'string' ? redisTarget : undefined },
  };

  const metrics = createMetrics();
  const orm = await createOrm({
    url: databaseUrl,
    replicaUrls: config.database.replicaUrls,
    poolMax: config.database.poolMax,
  });
  stoppables.push({ stop: () => orm.close() });
  const applied = await migrateUp(orm);
  if (applied.length) say(`Applied migrations: ${applied.join(', ')}`);

  const worker = remember(
    // One process, one registry: the web process's /metrics shows the worker's metrics too.
    createWorkerProcess({
      config,
      orm,
      logger,
      redisTarget,
      metrics,
      serveMetrics: false,
      // Each tenant's bot comes from the tenant table; the default tenant's is `botToken` (config).
      planProvider: createWorkerServices(config, logger).planProvider,
    }),
  );
  await worker.start();
  const web = remember(createWebProcess({ config, orm, logger, redisTarget, metrics }));
  await web.start();
  // With a webhook URL the web process handles updates; otherwise poll (the sandbox, without a token).
  // Started last so it stops first, while the database and the sandbox it talks to are still up.
  if (!config.telegram.webhookUrl) {
    const bot = createBotProcess({ config, orm, logger, metrics });
    await bot.start().then(
      () => remember(bot),
      (error: Error) => say(`Bot not started (${error.message}); the API and workers run without it.`),
    );
  }

  const base = `http://localhost:${web.port()}`;
  say('');
  say(`Coach backend is up: API ${base}/api  health ${base}/healthz  ready ${base}/readyz`);
  say(
    `AI provider: ${config.ai.provider}${config.ai.provider === 'offline' ? ' (set OPENAI_API_KEY for real AI plans)' : ''}`,
  );
  say(`Mini App:      ${base}/app/`);
  say(`Trainer panel: ${base}/panel/`);
  if (!process.env.TELEGRAM_BOT_TOKEN) {
    const hours = Math.round(config.telegram.initDataMaxAgeSeconds / 3600);
    say(`Open them in a browser as the sandbox bot's users (signed links, valid for ${hours} h):`);
    say(
      `  client ${SANDBOX_CLIENT.first_name}: ${signedLaunchUrl(`${base}/app/`, botToken, SANDBOX_CLIENT)}`,
    );
    say(`  coach (owner):  ${signedLaunchUrl(`${base}/panel/`, botToken, SANDBOX_COACH)}`);
    say('No TELEGRAM_BOT_TOKEN: using a local sandbox Bot API; bot messages are printed here.');
    say('Try the client journey locally:');
    say(`  AUTH="$(npm run -s dev:init-data)"`);
    say(
      `  curl -s -X POST ${base}/api/surveys -H "Authorization: $AUTH" -H 'Content-Type: application/json' \\`,
    );
    say(
      `    -d '{"answers":{"goal":"build_muscle","sex":"female","age":30,"heightCm":168,"weightKg":60,"activityLevel":"moderate","experience":"beginner","daysPerWeek":3,"sessionMinutes":45,"equipment":["dumbbells"]}}'`,
    );
    say(`  curl -s ${base}/api/plans/latest -H "Authorization: $AUTH"`);
  }
  stopOnSignal(stoppables, logger, config.shutdownTimeoutMs + config.ai.timeoutMs);
} catch (error) {
  // Leave nothing running behind a failed boot (embedded PostgreSQL, redis-server, sandbox).
  for (const stoppable of stoppables.reverse()) await stoppable.stop().catch(() => {});
  exitOnBootError(error);
}

function remember<T extends Stoppable | { close(): Promise<void> }>(thing: T): T {
  stoppables.push('stop' in thing ? thing : { stop: () => thing.close() });
  return thing;
}
