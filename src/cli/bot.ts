import { loadConfig } from '../config/env.ts';
import { createLogger } from '../config/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { connectDatabase, requireProductionSettings } from '../processes/boot.ts';
import { createBotProcess } from '../processes/bot-process.ts';
import { exitOnBootError, stopOnSignal } from '../processes/run-until-signal.ts';

try {
  const config = loadConfig();
  if (config.telegram.webhookUrl) {
    // Telegram delivers to one place: polling while a webhook is set would fail with 409 anyway.
    process.stdout.write(
      'TELEGRAM_WEBHOOK_URL is set: the web process receives updates via webhook; the bot process is not needed.\n',
    );
    process.exit(0);
  }
  const logger = createLogger(config.logLevel);
  const { databaseUrl } = requireProductionSettings(config);
  const orm = await connectDatabase(config, databaseUrl);
  // Every tenant's bot in this one process; a bot that fails (revoked token, 409) retries on its
  // own with a backoff and never takes the others down, so the process lives until a signal.
  const bot = createBotProcess({ config, orm, logger, metrics: createMetrics() });
  const started = bot.start();
  stopOnSignal([{ stop: () => orm.close() }, bot], logger, config.shutdownTimeoutMs + 2_000, started);
  await started;
} catch (error) {
  exitOnBootError(error);
}
