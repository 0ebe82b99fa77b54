import test from 'ava';
import pg from 'pg';
import { AiLimiterUnavailableError, AiTransientError } from '../src/ai/ai-errors.ts';
import { isDependencyDown } from '../src/db/dependency-errors.ts';
import { createRedisConnection } from '../src/queue/redis-connection.ts';
import { TelegramNetworkError } from '../src/telegram/telegram-errors.ts';

/** What the job runner and the API treat as our platform being down (no attempt spent; 503). */
const closedPort = 'postgres://postgres@127.0.0.1:1/none';

test('PostgreSQL and Redis unreachable are outages', async (t) => {
  const client = new pg.Client({ connectionString: closedPort, connectionTimeoutMillis: 2_000 });
  const pgError = await client.connect().then(
    () => undefined,
    (error) => error,
  );
  t.true(isDependencyDown(pgError));
  // The API's and the relay's fail-fast producer connection, with Redis gone.
  const redis = createRedisConnection('redis://127.0.0.1:1', 'producer', 'test');
  const redisError = await redis.get('x').then(
    () => undefined,
    (error) => error,
  );
  redis.disconnect();
  t.true(isDependencyDown(redisError));
});

test('Redis refusing writes (out of memory, a replica after failover, loading) is an outage too', (t) => {
  // The error ioredis raises for a reply error, as the server words it.
  for (const reply of [
    "OOM command not allowed when used memory > 'maxmemory'.",
    "READONLY You can't write against a read only replica.",
    'LOADING Redis is loading the dataset in memory',
  ]) {
    const error = Object.assign(new Error(reply), { name: 'ReplyError' });
    t.true(isDependencyDown(error), reply);
  }
  t.false(isDependencyDown(Object.assign(new Error('ERR unknown command'), { name: 'ReplyError' })));
});

test('Telegram or the AI being unreachable is not our outage; the AI limiter losing Redis is', (t) => {
  t.false(
    isDependencyDown(
      new TelegramNetworkError(false, 'connect ECONNREFUSED 149.154.167.220:443', 'ECONNREFUSED'),
    ),
  );
  t.false(isDependencyDown(new AiTransientError('OpenAI connection failed: connect ECONNREFUSED')));
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  t.true(isDependencyDown(new AiLimiterUnavailableError('AI rate limiter unavailable', { cause })));
});
