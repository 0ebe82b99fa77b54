import { createWorkerProcess } from '../../workers/worker-process.ts';
import { loadConfig } from '../config/env.ts';
import { createLogger } from '../config/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { connectDatabase, createWorkerServices, requireProductionSettings } from '../processes/boot.ts';
import { exitOnBootError, stopOnSignal } from '../processes/run-until-signal.ts';

try {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { databaseUrl, redisTarget } = requireProductionSettings(config);
  const orm = await connectDatabase(config, databaseUrl);
  const worker = createWorkerProcess({
    config,
    orm,
    logger,
    metrics: createMetrics(),
    serveMetrics: true,
    redisTarget,
    // Each tenant's bot comes from the tenant table (the default tenant's is TELEGRAM_BOT_TOKEN).
    planProvider: createWorkerServices(config, logger).planProvider,
  });
  const started = worker.start();
  // Workers may need the whole lock duration to finish a job; give them that before exiting.
  stopOnSignal(
    [{ stop: () => orm.close() }, worker],
    logger,
    Math.max(config.shutdownTimeoutMs, config.ai.timeoutMs) + 5_000,
    started,
  );
  await started;
} catch (error) {
  exitOnBootError(error);
}
