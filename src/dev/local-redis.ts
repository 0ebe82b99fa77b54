import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';

export interface LocalRedisHandle {
  url: string;
  stop(): Promise<void>;
}

const URL = 'redis://127.0.0.1:6379';

async function answersPing(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * For `npm start` without REDIS_URL: use the Redis on 127.0.0.1:6379, or start `redis-server`
 * (with AOF, data under `.data/redis`) when it is installed but not running.
 */
export async function ensureLocalRedis(
  dataRoot: string,
  log: (line: string) => void,
): Promise<LocalRedisHandle> {
  if (await answersPing(URL)) return { url: URL, stop: async () => {} };
  const which = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error(
      'Redis is not running on 127.0.0.1:6379 and redis-server is not installed: install Redis (e.g. `apt-get install redis-server`) or set REDIS_URL',
    );
  }
  const dir = path.resolve(dataRoot, 'redis');
  mkdirSync(dir, { recursive: true });
  log(`Starting redis-server on 127.0.0.1:6379 (data in ${dir}) ...`);
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      '6379',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 50; i++) {
    if (await answersPing(URL)) {
      return {
        url: URL,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((resolve) => child.once('exit', resolve));
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server was started but did not answer on 127.0.0.1:6379 within 5 s');
}
