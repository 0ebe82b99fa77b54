import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { waitFor } from './wait-for.ts';

const run = promisify(execFile);

/** A throwaway Redis Cluster of replica-less masters on local ports, for one test file. */
export interface LocalRedisCluster {
  /** REDIS_CLUSTER_NODES for the system under test. */
  nodes: string;
  ports: number[];
  /** SIGKILLs the master on `port` (no replica takes over: its slots are lost). */
  kill(port: number): void;
  /** Starts the killed master again: same id and slots, empty data (nothing is saved). */
  restart(port: number): Promise<void>;
  /** cluster_state as the node on `port` sees it: `ok`, or `fail` once a slot has no live master. */
  state(port: number): Promise<string>;
  /** The port of the master serving `key`'s hash slot. */
  portOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A port free for Redis and for its cluster bus (port + 10000), below the kernel's ephemeral
 * range so no outgoing connection of the test run takes it before redis-server binds it.
 */
async function freeClusterPort(taken: number[]): Promise<number> {
  const canBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (taken.includes(port)) continue;
    if ((await canBind(port)) && (await canBind(port + 10_000))) return port;
  }
}

async function clusterInfo(port: number): Promise<string> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return String(await redis.cluster('INFO'));
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts `masters` redis-server processes in cluster mode, joins them with `redis-cli --cluster
 * create` and waits for cluster_state:ok. Fails loudly when redis-server is missing: CI installs
 * it (.ci/run), and a skipped cluster test would hide a CROSSSLOT regression.
 */
export async function startLocalRedisCluster(masters = 3): Promise<LocalRedisCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'coach-redis-cluster-'));
  const children = new Map<number, ChildProcess>();
  const stop = async () => {
    for (const child of children.values()) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(
      [...children.values()].map((child) =>
        child.exitCode === null && child.signalCode === null
          ? new Promise((resolve) => child.once('exit', resolve))
          : undefined,
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  let spawnError: Error | undefined;
  const startNode = (port: number) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        // Kept across a restart: the node comes back with its id and its slots.
        '--cluster-config-file',
        path.join(dir, `nodes-${port}.conf`),
        // A dead master is declared failed after 1 s (default 15 s), so the test sees it soon.
        '--cluster-node-timeout',
        '1000',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    );
    child.on('error', (error) => {
      spawnError = new Error(
        `cannot start redis-server (install Redis; CI's .ci/run does): ${error.message}`,
      );
    });
    children.set(port, child);
  };
  const nodeUp = async (port: number) => {
    if (spawnError) throw spawnError;
    return Boolean(await clusterInfo(port));
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) ports.push(await freeClusterPort(ports));
    for (const port of ports) startNode(port);
    for (const port of ports) {
      await waitFor(`redis-server on ${port}`, () => nodeUp(port), 10_000, 100);
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const port of ports) {
      await waitFor(
        `cluster_state:ok on ${port}`,
        async () => /cluster_state:ok/.test(await clusterInfo(port)),
        15_000,
        100,
      );
    }
    return {
      nodes: ports.map((port) => `127.0.0.1:${port}`).join(','),
      ports,
      kill(port) {
        children.get(port)?.kill('SIGKILL');
      },
      async restart(port) {
        const old = children.get(port);
        if (old && old.exitCode === null && old.signalCode === null) {
          await new Promise((resolve) => old.once('exit', resolve));
        }
        startNode(port);
        await waitFor(`redis-server on ${port} again`, () => nodeUp(port), 10_000, 100);
        await waitFor(
          'cluster_state:ok after the restart',
          async () => /cluster_state:ok/.test(await clusterInfo(ports[0]!)),
          15_000,
          100,
        );
      },
      async state(port) {
        return /cluster_state:(\w+)/.exec(await clusterInfo(port))?.[1] ?? 'unknown';
      },
      async portOf(key) {
        const redis = new Redis({ port: ports[0], host: '127.0.0.1', maxRetriesPerRequest: 0 });
        try {
          const slot = Number(await redis.cluster('KEYSLOT', key));
          const shards = (await redis.cluster('SLOTS')) as unknown as Array<
            [number, number, [string, number]]
          >;
          const owner = shards.find(([from, to]) => slot >= from && slot <= to);
          if (!owner) throw new Error(`no master serves slot ${slot}`);
          return owner[2][1];
        } finally {
          redis.disconnect();
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
