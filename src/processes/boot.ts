import type { MikroORM } from '@mikro-orm/postgresql';
import { createPlanProvider } from '../ai/create-plan-provider.ts';
import { type Config, ConfigError } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { type RedisTarget, redisTargetOf } from '../config/redis-cluster.ts';
import { createOrm } from '../db/orm.ts';

/** For the Procfile processes: production needs explicit URLs and a token, no embedded fallbacks. */
export function requireProductionSettings(config: Config): {
  databaseUrl: string;
  /** REDIS_URL, or the cluster of REDIS_CLUSTER_NODES. */
  redisTarget: RedisTarget;
  botToken: string;
} {
  if (!config.database.url)
    throw new ConfigError('Invalid DATABASE_URL: required (or use `npm start` for a local trial)');
  const redisTarget = redisTargetOf(config.redis);
  if (!redisTarget)
    throw new ConfigError(
      'Invalid REDIS_URL: required, or REDIS_CLUSTER_NODES for a cluster (or use `npm start` for a local trial)',
    );
  if (!config.telegram.botToken)
    throw new ConfigError(
      'Invalid TELEGRAM_BOT_TOKEN: required; create a bot with @BotFather (or use `npm start` for a local trial)',
    );
  return { databaseUrl: config.database.url, redisTarget, botToken: config.telegram.botToken };
}

export async function connectDatabase(config: Config, url: string): Promise<MikroORM> {
  const orm = await createOrm({
    url,
    replicaUrls: config.database.replicaUrls,
    poolMax: config.database.poolMax,
  });
  const pending = await orm.migrator.getPending();
  if (pending.length > 0) {
    await orm.close();
    throw new Error(`the database has ${pending.length} pending migration(s): run \`npm run release\` first`);
  }
  return orm;
}

export function createWorkerServices(config: Config, logger: Logger) {
  if (!config.telegram.miniAppUrl) {
    logger.warn('TELEGRAM_MINI_APP_URL is not set: plan-ready messages are sent without the "open" button');
  }
  return { planProvider: createPlanProvider(config.ai) };
}
