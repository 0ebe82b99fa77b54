import { Redis, type RedisOptions } from 'ioredis';
import { settledWithin } from '../util/with-timeout.ts';

export type RedisRole = 'producer' | 'worker';

/**
 * Producers fail fast (no offline queue, one try) so the API never hangs on a Redis outage;
 * the outbox keeps the work. Workers block on Redis and must reconnect forever, which BullMQ
 * requires as `maxRetriesPerRequest: null`.
 */
export function createRedisConnection(url: string, role: RedisRole, connectionName: string): Redis {
  const common: RedisOptions = {
    connectionName,
    connectTimeout: 2_000,
    // Reconnect with capped backoff; never give up: Redis coming back must heal the process.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  };
  const options: RedisOptions =
    role === 'producer'
      ? { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 5_000 }
      : { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
  const redis = new Redis(url, options);
  // Without a listener ioredis prints every reconnect error; callers observe state via `status`.
  redis.on('error', () => {});
  return redis;
}

/**
 * QUIT politely, but never wait on it for long: with Redis unreachable, a connection that retries
 * forever would queue QUIT forever and hang shutdown.
 */
export async function closeRedis(redis: Redis, timeoutMs = 1_000): Promise<void> {
  if (redis.status === 'end') return;
  await settledWithin(redis.quit(), timeoutMs);
  redis.disconnect();
}
