import type { RedisOptions } from 'ioredis';
import { z } from 'zod';

/**
 * REDIS_CLUSTER_NODES: the seed nodes of a Redis Cluster (a managed one, or self-hosted), comma
 * separated. The client learns the rest of the cluster from any one of them, so two or three seeds
 * are enough. Each entry is `host:port`, or a `redis://` / `rediss://` URL when the cluster needs a
 * user, a password or TLS; those are taken from the first entry that has them and apply to every
 * node (a cluster has one ACL and one TLS setting).
 */
export interface RedisClusterTarget {
  kind: 'cluster';
  nodes: Array<{ host: string; port: number }>;
  username?: string;
  password?: string;
  tls: boolean;
}

function parseNode(entry: string, ctx: z.RefinementCtx) {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `redis://${entry}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port or a redis:// URL` });
    return undefined;
  }
  if (!/^rediss?:$/.test(parsed.protocol) || !parsed.hostname || !parsed.port) {
    ctx.addIssue({
      code: 'custom',
      message: `"${entry}" needs a host and a port (host:port or redis://host:port)`,
    });
    return undefined;
  }
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port),
    username: decodeURIComponent(parsed.username) || undefined,
    password: decodeURIComponent(parsed.password) || undefined,
    tls: parsed.protocol === 'rediss:',
  };
}

export const redisClusterNodes = z
  .string()
  .optional()
  .transform((value, ctx): RedisClusterTarget | undefined => {
    const entries = (value ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
    if (entries.length === 0) return undefined;
    const parsed = entries.map((entry) => parseNode(entry, ctx));
    const nodes = parsed.filter((node) => node !== undefined);
    if (nodes.length !== parsed.length) return z.NEVER;
    const withAuth = nodes.find((node) => node.password || node.username);
    return {
      kind: 'cluster',
      nodes: nodes.map(({ host, port }) => ({ host, port })),
      username: withAuth?.username,
      password: withAuth?.password,
      tls: nodes.some((node) => node.tls),
    };
  });

/** What a process connects to: one Redis (its URL) or a cluster. */
export type RedisTarget = string | RedisClusterTarget;

/** The configured Redis, if any: a cluster when REDIS_CLUSTER_NODES is set, else REDIS_URL. */
export function redisTargetOf(redis: {
  url: string | undefined;
  cluster?: RedisClusterTarget;
}): RedisTarget | undefined {
  return redis.cluster ?? redis.url;
}

/** For log lines and errors: where, never the password. */
/** What every node of a cluster is opened with: the ACL user, password and TLS of the target. */
export function clusterNodeAuth(
  target: RedisClusterTarget,
): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  return { username: target.username, password: target.password, ...(target.tls ? { tls: {} } : {}) };
}

export function describeRedisTarget(target: RedisTarget): string {
  if (typeof target !== 'string') {
    return `cluster ${target.nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
  }
  try {
    const url = new URL(target);
    return `${url.hostname}:${url.port || 6379}`;
  } catch {
    return 'redis';
  }
}
