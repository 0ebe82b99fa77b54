import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { clusterNodeAuth, type RedisClusterTarget, type RedisTarget } from '../config/redis-cluster.ts';
import { settledWithin } from '../util/with-timeout.ts';

export type RedisRole = 'producer' | 'worker';
export type { RedisTarget } from '../config/redis-cluster.ts';

/**
 * Producers fail fast (no offline queue, one try) so the API never hangs on a Redis outage;
 * the outbox keeps the work. Workers block on Redis and must reconnect forever, which BullMQ
 * requires as `maxRetriesPerRequest: null`.
 *
 * A cluster target gives an ioredis Cluster. It is typed as `Redis` on purpose: it answers the
 * same commands (BullMQ and rate-limiter-flexible accept either), so every caller stays one type.
 * What differs is which node answers: keys are routed by hash slot, which is why every multi-key
 * script keeps its keys under one hash tag (docs/operations.md, "Running on Redis Cluster"), and
 * PING reaches an arbitrary node, which is why readiness goes through `probeRedis`.
 */
export function createRedisConnection(target: RedisTarget, role: RedisRole, connectionName: string): Redis {
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
  if (typeof target !== 'string') return createCluster(target, role, options);
  const redis = new Redis(target, options);
  // Without a listener ioredis prints every reconnect error; callers observe state via `status`.
  redis.on('error', () => {});
  return redis;
}

function createCluster(target: RedisClusterTarget, role: RedisRole, options: RedisOptions): Redis {
  // Per-node connections never reconnect on their own in ioredis (the cluster re-reads the slot
  // map instead), so the node-level retryStrategy is left out; the cluster-level one takes over.
  const { retryStrategy, enableOfflineQueue, enableReadyCheck, ...nodeOptions } = options;
  const cluster = new Cluster(target.nodes, {
    // Producers: a command while the cluster is not ready fails at once, as on one Redis.
    enableOfflineQueue: role === 'worker',
    // "ready" only once CLUSTER INFO says cluster_state:ok, i.e. every slot is served.
    enableReadyCheck: true,
    clusterRetryStrategy: retryStrategy as (times: number) => number,
    slotsRefreshTimeout: 2_000,
    // A slot whose master is gone answers CLUSTERDOWN; retry a few times (a failover takes a
    // moment), bounded by maxRedirections × this delay, then the command fails.
    retryDelayOnClusterDown: 200,
    maxRedirections: 8,
    redisOptions: {
      ...nodeOptions,
      ...clusterNodeAuth(target),
    },
  });
  cluster.on('error', () => {});
  cluster.on('node error', () => {});
  return cluster as unknown as Redis;
}

/** True for a connection made from a cluster target. */
export function isClusterConnection(redis: Redis): boolean {
  return (redis as unknown as { isCluster?: boolean }).isCluster === true;
}

/**
 * Readiness of the connection. One Redis: PING. A cluster: PING reaches any node and says
 * nothing about the shard that holds our queues, so the cluster must report cluster_state:ok
 * (every slot has a live master) and every master serving slots must answer.
 */
export async function probeRedis(redis: Redis): Promise<void> {
  if (!isClusterConnection(redis)) {
    await redis.ping();
    return;
  }
  const cluster = redis as unknown as Cluster;
  if (cluster.status !== 'ready') throw new Error(`cluster connection is ${cluster.status}`);
  const info = String(await cluster.cluster('INFO'));
  if (!/cluster_state:ok/.test(info)) throw new Error('cluster_state is not ok');
  const expected = Number(/cluster_size:(\d+)/.exec(info)?.[1] ?? 0);
  const masters = cluster.nodes('master');
  if (masters.length < expected) throw new Error(`${expected - masters.length} master(s) unreachable`);
  await Promise.all(masters.map((node) => node.ping()));
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
