import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../test/helpers/test-database.ts';

/**
 * The project's processes as production runs them (`node src/cli/<name>.ts`, Node 24 stripping
 * the types), for benchmarks that must see each process's own CPU and memory: the pid is the
 * process that does the work. `BENCH_CPU_PROF=<dir>` adds
 * `--cpu-prof` to every spawned process: each writes a .cpuprofile there when it exits.
 */
export function spawnCli(name: 'web' | 'worker' | 'bot', env: Record<string, string>): ChildProcess {
  const profileDir = process.env.BENCH_CPU_PROF;
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-\${pid}.cpuprofile`]
    : [];
  return spawn('node_modules/.bin/node', [...profile, `src/cli/${name}.ts`], {
    env: { ...process.env, ...env, PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** SIGTERM, then SIGKILL after `killAfterMs`; resolves once the process is gone. */
export async function stopChild(child: ChildProcess, killAfterMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(killer);
}

/** Polls `url` until it answers 2xx; fails if `child` exits first or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: the process exited`);
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0; // gone (a PostgreSQL backend that ended): its CPU is lost to the sample, not counted
  }
}

/** Resident set size in MiB (VmRSS of /proc/<pid>/status). */
export function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN) / 1024;
}

/** Pids of every running process whose command name is `comm` (e.g. all PostgreSQL backends). */
export function pidsByName(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/**
 * CPU seconds of the services: PostgreSQL (the given backends: the bench's database only, since
 * other databases on the same server are not this system's work) and Redis (the whole server).
 * A backend that ends between two samples is lost, so the PostgreSQL figure is a lower bound; the
 * processes keep their connections pooled, so few end.
 */
export function serviceCpuSeconds(postgresPids: number[]): { postgres: number; redis: number } {
  const sum = (pids: number[]) => pids.reduce((total, pid) => total + cpuSeconds(pid), 0);
  return { postgres: sum(postgresPids), redis: sum(pidsByName('redis-server')) };
}

/** Redis `INFO memory` used_memory, in MiB. */
export async function redisUsedMiB(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN) / 1024 / 1024;
}

/** A Redis client for the bench itself (stats, pub/sub), on the tests' Redis. */
export function benchRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
}

/** Deletes every key under `prefix:` (a bench's queues, pacer and limiter keys). */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = benchRedis();
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
