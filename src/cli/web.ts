import { loadConfig } from '../config/env.ts';
import { createLogger } from '../config/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { connectDatabase, requireProductionSettings } from '../processes/boot.ts';
import { exitOnBootError, stopOnSignal } from '../processes/run-until-signal.ts';
import { createWebProcess } from '../processes/web-process.ts';

try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { databaseUrl, redisTarget } = requireProductionSettings(config);
  const orm = await connectDatabase(config, databaseUrl);
  const web = createWebProcess({ config, orm, logger, redisTarget, metrics: createMetrics() });
  const started = web.start();
  stopOnSignal([{ stop: () => orm.close() }, web], logger, config.shutdownTimeoutMs + 2_000, started);
  await started;
} catch (error) {
  exitOnBootError(error);
}
