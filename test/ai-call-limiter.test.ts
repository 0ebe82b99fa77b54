import { type AddressInfo, createServer, connect as netConnect, type Socket } from 'node:net';
import test from 'ava';
import { Redis, type RedisOptions } from 'ioredis';
import {
  AiLocalRateLimitError,
  AiPermanentError,
  AiRateLimitedError,
  AiTransientError,
} from '../src/ai/ai-errors.ts';
import { createOfflinePlanProvider } from '../src/ai/offline-plan-generator.ts';
import type { PlanProvider } from '../src/ai/plan-provider.ts';
import {
  type AiCallLimiterOptions,
  createAiCallLimiter,
  limitAiCalls,
  withAiRateLimit,
} from '../src/ai/rate-limited-plan-provider.ts';
import { FAKE_PLAN } from './fakes/fake-openai-server.ts';
import { TEST_REDIS_URL, uniquePrefix } from './helpers/test-database.ts';

const connections: Redis[] = [];
/** Fail-fast like the worker's producer connection. */
function connect(url = TEST_REDIS_URL, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, ...extra });
  redis.on('error', () => {});
  connections.push(redis);
  return redis;
}
async function ready(redis: Redis): Promise<Redis> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}
test.after.always(async () => {
  const cleanup = await ready(connect());
  const keys = await cleanup.keys('test-ailimit-*');
  if (keys.length) await cleanup.unlink(...keys);
  for (const redis of connections) redis.disconnect();
});

async function limiter(options: Omit<AiCallLimiterOptions, 'redis'>) {
  return createAiCallLimiter({ redis: await ready(connect()), ...options });
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A stand-in AI call that only counts how often it ran. */
function callCounter() {
  const counter = {
    calls: 0,
    call: async () => {
      counter.calls++;
    },
  };
  return counter;
}

/** The most calls any half-open window [t, t + windowMs) contains, t being any call's time. */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

test('three limiters sharing a prefix never let more than 10 calls into any 2 s window', async (t) => {
  const keyPrefix = uniquePrefix('ailimit');
  const options = { keyPrefix, maxCalls: 10, windowMs: 2_000, maxWaitMs: 20_000 };
  const limiters = await Promise.all([limiter(options), limiter(options), limiter(options)]);
  // The "provider" receives each call at a random moment between its start and its end, as a
  // real one does somewhere between our request and its response.
  const arrivals: number[] = [];
  const call = async () => {
    await sleep(Math.random() * 150);
    arrivals.push(Date.now());
    await sleep(Math.random() * 150);
  };
  await Promise.all(Array.from({ length: 36 }, (_, i) => limiters[i % 3]!.run(call)));

  t.is(arrivals.length, 36);
  t.true(busiestWindow(arrivals, 2_000) <= 10, `busiest 2 s window: ${busiestWindow(arrivals, 2_000)}`);
  // The limit did bind: 36 calls at 10 per 2 s need at least three full windows after the first.
  const sorted = [...arrivals].sort((a, b) => a - b);
  t.true(
    sorted[30]! - sorted[0]! >= 3 * 2_000 - 300,
    `31st call ${sorted[30]! - sorted[0]!} ms after the 1st`,
  );
});

test('a slot further away than maxWaitMs: AiLocalRateLimitError with retryAfterMs, no call', async (t) => {
  const limited = await limiter({
    keyPrefix: uniquePrefix('ailimit'),
    maxCalls: 2,
    windowMs: 5_000,
    maxWaitMs: 500,
  });
  const counter = callCounter();
  await limited.run(counter.call);
  await limited.run(counter.call);
  const error = await t.throwsAsync(limited.run(counter.call), { instanceOf: AiLocalRateLimitError });
  // Distinguishable from the provider's 429, yet handled like one by code that only knows that.
  t.true(error instanceof AiRateLimitedError);
  t.is(error.name, 'AiLocalRateLimitError');
  t.true(error.retryAfterMs > 4_000 && error.retryAfterMs <= 5_000, `retryAfterMs ${error.retryAfterMs}`);
  t.regex(error.message, /2 calls per 5 s/);
  t.is(counter.calls, 2);
});

test('a slot within maxWaitMs is waited for; a call that ends frees its slot a window later', async (t) => {
  const limited = await limiter({
    keyPrefix: uniquePrefix('ailimit'),
    maxCalls: 1,
    windowMs: 600,
    maxWaitMs: 3_000,
  });
  const times: number[] = [];
  await limited.run(async () => {
    times.push(Date.now());
  });
  await limited.run(async () => {
    times.push(Date.now());
  });
  t.true(times[1]! - times[0]! >= 590, `second call ${times[1]! - times[0]!} ms after the first`);
  t.true(times[1]! - times[0]! < 1_500);
});

test('withAiRateLimit keeps the name and passes the provider errors through', async (t) => {
  const limited = await limiter({ keyPrefix: uniquePrefix('ailimit'), maxCalls: 5, windowMs: 10_000 });
  const failing: PlanProvider = {
    name: 'openai',
    async generatePlan() {
      throw new AiPermanentError('refused');
    },
  };
  const provider = withAiRateLimit(failing, limited);
  t.is(provider.name, 'openai');
  await t.throwsAsync(provider.generatePlan({ answers: {} as never, languageCode: null, firstName: null }), {
    instanceOf: AiPermanentError,
    message: 'refused',
  });
});

test('limitAiCalls leaves the offline generator alone and wraps an AI provider', async (t) => {
  const redis = await ready(connect());
  const options = { redis, keyPrefix: uniquePrefix('ailimit'), requestsPerMinute: 1 };
  const offline = createOfflinePlanProvider();
  t.is(limitAiCalls(offline, options), offline);

  let calls = 0;
  const ai: PlanProvider = {
    name: 'openai',
    async generatePlan() {
      calls++;
      return FAKE_PLAN;
    },
  };
  const limited = limitAiCalls(ai, options);
  t.not(limited, ai);
  const input = { answers: {} as never, languageCode: null, firstName: null };
  t.deepEqual(await limited.generatePlan(input), FAKE_PLAN);
  // 1 per minute: the next slot is a minute away, far beyond the in-place wait.
  await t.throwsAsync(limited.generatePlan(input), { instanceOf: AiLocalRateLimitError });
  t.is(calls, 1);
});

test('Redis down: fails closed with AiTransientError and never calls the AI', async (t) => {
  const down = connect('redis://127.0.0.1:1', { retryStrategy: () => null, lazyConnect: true });
  const limited = createAiCallLimiter({ redis: down, keyPrefix: uniquePrefix('ailimit'), maxCalls: 100 });
  let calls = 0;
  const error = await t.throwsAsync(
    limited.run(async () => {
      calls++;
    }),
    { instanceOf: AiTransientError },
  );
  t.regex(error.message, /rate limiter unavailable/);
  t.truthy(error.cause, 'the Redis error is kept as the cause');
  t.is(calls, 0);
});

test('Redis that stops answering: fails closed after the timeout', async (t) => {
  // A proxy to the real Redis that, once stalled, swallows what the client sends: a connection
  // that is "ready" but hangs, as in a network partition.
  let stalled = false;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const target = new URL(TEST_REDIS_URL);
    const upstream = netConnect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
    }
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    proxy.close();
  });
  const { port } = proxy.address() as AddressInfo;
  const hung = await ready(connect(`redis://127.0.0.1:${port}`));
  const limited = createAiCallLimiter({
    redis: hung,
    keyPrefix: uniquePrefix('ailimit'),
    maxCalls: 100,
    redisTimeoutMs: 300,
  });
  const counter = callCounter();
  await limited.run(counter.call);
  stalled = true;
  const started = Date.now();
  const error = await t.throwsAsync(limited.run(counter.call), {
    instanceOf: AiTransientError,
    message: /no answer within 300 ms/,
  });
  t.is((error.cause as { code?: string }).code, 'ETIMEDOUT');
  t.true(Date.now() - started < 2_000);
  t.is(counter.calls, 1);
});

test('an abort while waiting for a slot ends the wait without calling', async (t) => {
  const limited = await limiter({
    keyPrefix: uniquePrefix('ailimit'),
    maxCalls: 1,
    windowMs: 5_000,
    maxWaitMs: 10_000,
  });
  const counter = callCounter();
  await limited.run(counter.call);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const started = Date.now();
  await t.throwsAsync(limited.run(counter.call, controller.signal), { instanceOf: AiTransientError });
  t.true(Date.now() - started < 2_000);
  t.is(counter.calls, 1);
});

test('a tenant budget wrapped around the global one keeps no slot for calls the global one refused', async (t) => {
  const keyPrefix = uniquePrefix('test-ailimit');
  const global = await limiter({ keyPrefix: `${keyPrefix}:global`, maxCalls: 1, maxWaitMs: 0 });
  const tenant = await limiter({ keyPrefix: `${keyPrefix}:tenant`, maxCalls: 2, maxWaitMs: 0 });
  const counter = callCounter();
  // Another tenant took the whole global budget for this minute.
  await global.run(counter.call);
  for (let attempt = 0; attempt < 5; attempt++) {
    const refused = await t.throwsAsync(() => tenant.run(() => global.run(counter.call)));
    t.true(refused instanceof AiLocalRateLimitError, refused?.message);
  }
  t.is(counter.calls, 1, 'no call went through');
  // The tenant's own budget is untouched by those attempts: two calls fit in it still.
  const unlimitedGlobal = await limiter({ keyPrefix: `${keyPrefix}:global2`, maxCalls: 10, maxWaitMs: 0 });
  await tenant.run(() => unlimitedGlobal.run(counter.call));
  await tenant.run(() => unlimitedGlobal.run(counter.call));
  t.is(counter.calls, 3);
  const third = await t.throwsAsync(() => tenant.run(counter.call));
  t.true(third instanceof AiLocalRateLimitError, 'the tenant budget of 2 holds');
});
