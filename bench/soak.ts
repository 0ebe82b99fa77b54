import { performance } from 'node:perf_hooks';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { authHeader, validAnswers } from '../test/helpers/init-data.ts';
import { type Measure, median, progress, round } from './helpers/measure.ts';
import { benchRedis, redisUsedMiB, rssMiB } from './helpers/processes.ts';
import { type BenchSystem, heapUsedMiB, seedClients, startBenchSystem } from './helpers/system-processes.ts';

const FIRST_TELEGRAM_ID = 5_600_000_000;
const OWNER_TELEGRAM_ID = 5_599_999_999;
const SAMPLE_MS = 10_000;
/** Within ±10% of the median after warm-up counts as flat. */
const FLAT_BAND = 0.1;

/**
 * A steady mixed load against the real separate processes — `src/cli/web.ts`, `src/cli/worker.ts`
 * (every queue, default settings, offline generator), `src/cli/bot.ts` (long polling the fake Bot
 * API) — for `seconds` (default 10 minutes): surveys from new clients at `surveysPerSecond`
 * (each becomes a plan and a plan-ready message through the fake Bot API, under Telegram's
 * 30/s), `GET /api/me` of those clients at 20/s, and an owner reading the panel (applications,
 * clients, metrics) at 3/s. Every 10 s: each process's RSS (VmRSS) and V8 used heap (its /metrics),
 * and Redis memory — `used_memory` of the whole server, which other users of the same Redis move
 * too, and the memory of this system's own keys (MEMORY USAGE over its prefix). After the warm-up (the first 2 minutes, or a
 * fifth of a shorter run): min / max, the slope of a least-squares line, and whether every sample
 * stays within ±10% of the median. One JSON line per process, one for Redis, one for the load.
 *
 *   npm run bench -- soak [seconds] [surveys per second]
 */
export async function soak(seconds = 600, surveysPerSecond = 5): Promise<Measure[]> {
  const system = await startBenchSystem({ workers: 1, bot: true });
  const redis = benchRedis();
  try {
    const clients = Math.ceil(seconds * surveysPerSecond) + 100;
    const header = await seedClients(system, FIRST_TELEGRAM_ID, clients);
    // The owner reads the panel; new-application alerts off, or every survey would queue a
    // message to one chat, which Telegram lets through at 1/s.
    await system.pool.query(
      `insert into telegram_user (id, tenant_id, telegram_id, first_name, role, notify_new_applications,
         last_seen_at, created_at, updated_at)
       values (gen_random_uuid(), $1, $2, 'Owner', 'owner', false, now(), now(), now())`,
      [DEFAULT_TENANT_ID, OWNER_TELEGRAM_ID],
    );
    const owner = authHeader({ id: OWNER_TELEGRAM_ID, first_name: 'Owner' });
    const outcomes = { requests: 0, failures: 0, firstFailure: '' };
    const call = (path: string, auth: string, init: RequestInit = {}) => {
      outcomes.requests++;
      fetch(`${system.baseUrl}${path}`, { ...init, headers: { authorization: auth, ...init.headers } }).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.status >= 300) fail(`${path}: HTTP ${res.status}`);
        },
        (error) => fail(`${path}: ${error}`),
      );
    };
    const fail = (what: string) => {
      outcomes.failures++;
      outcomes.firstFailure ||= what;
    };
    let surveys = 0;
    const body = JSON.stringify({ answers: validAnswers });
    const streams = [
      {
        perSecond: surveysPerSecond,
        fire: () =>
          call('/api/surveys', header(surveys++), {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          }),
      },
      {
        perSecond: 20,
        fire: () => call('/api/me', header(Math.floor(Math.random() * Math.max(1, surveys)))),
      },
      {
        perSecond: 3,
        fire: (n: number) =>
          call(['/api/panel/applications', '/api/panel/clients', '/api/panel/metrics'][n % 3]!, owner),
      },
    ];

    const pids = system.pids();
    const metricsUrls = system.metricsUrls();
    const samples: {
      at: number;
      rss: Record<string, number>;
      heap: Record<string, number>;
      redisUsed: number;
      redisOwn: number;
    }[] = [];
    const start = performance.now();
    const fired = streams.map(() => 0);
    let nextSample = start;
    while (performance.now() - start < seconds * 1000) {
      const elapsed = (performance.now() - start) / 1000;
      // Open loop: each stream catches up to its schedule, whatever the answers are doing.
      streams.forEach((stream, i) => {
        while (fired[i]! < elapsed * stream.perSecond) stream.fire(fired[i]!++);
      });
      if (performance.now() >= nextSample) {
        nextSample += SAMPLE_MS;
        const rss = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, rssMiB(pid)]));
        const heap: Record<string, number> = {};
        for (const [role, url] of Object.entries(metricsUrls)) heap[role] = await heapUsedMiB(url);
        samples.push({
          at: elapsed,
          rss,
          heap,
          redisUsed: await redisUsedMiB(redis),
          redisOwn: await prefixMiB(redis, system.prefix),
        });
        const sent = await system.telegramState();
        progress(
          `${Math.round(elapsed)} s: RSS ${Object.entries(rss)
            .map(([role, mib]) => `${role} ${round(mib)}`)
            .join(', ')} MiB; Redis ${round(samples.at(-1)!.redisOwn, 2)} MiB own; ` +
            `${sent.sent} messages sent, ${outcomes.failures} failed requests`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const warmUp = Math.min(120, seconds / 5);
    const after = samples.filter((s) => s.at >= warmUp);
    const lines: Measure[] = Object.keys(pids).map((role) => {
      const heap =
        role in metricsUrls
          ? series(
              after.map((s) => s.at),
              after.map((s) => s.heap[role]!),
            )
          : {};
      return {
        benchmark: 'soak',
        process: role,
        ...series(
          after.map((s) => s.at),
          after.map((s) => s.rss[role]!),
        ),
        // V8's used heap beside RSS: RSS also holds what the collector has not given back yet.
        ...Object.fromEntries(
          Object.entries(heap).map(([key, value]) => [`heap${key[0]!.toUpperCase()}${key.slice(1)}`, value]),
        ),
      };
    });
    lines.push({
      benchmark: 'soak',
      process: 'redis (this system’s keys)',
      ...series(
        after.map((s) => s.at),
        after.map((s) => s.redisOwn),
      ),
      usedMemoryMinMiB: round(Math.min(...after.map((s) => s.redisUsed))),
      usedMemoryMaxMiB: round(Math.max(...after.map((s) => s.redisUsed))),
    });
    const telegram = await system.telegramState();
    lines.push({
      benchmark: 'soak',
      process: 'load',
      seconds,
      warmUpSeconds: warmUp,
      surveysPerSecond,
      surveys,
      requests: outcomes.requests,
      failedRequests: outcomes.failures,
      ...(outcomes.firstFailure ? { firstFailure: outcomes.firstFailure } : {}),
      messagesSent: telegram.sent,
      telegram429s: telegram.rateLimitHits,
      plansReady: await countReady(system),
    });
    return lines;
  } finally {
    redis.disconnect();
    await system.stop();
  }
}

/** Min / max / median, least-squares slope per minute, and whether every sample is within the band. */
function series(allAt: number[], allValues: number[]): Measure {
  const at = allAt.filter((_, i) => Number.isFinite(allValues[i]));
  const values = allValues.filter((v) => Number.isFinite(v));
  const mid = median(values);
  const meanAt = at.reduce((a, b) => a + b, 0) / at.length;
  const meanValue = values.reduce((a, b) => a + b, 0) / values.length;
  const covariance = at.reduce((sum, t, i) => sum + (t - meanAt) * (values[i]! - meanValue), 0);
  const variance = at.reduce((sum, t) => sum + (t - meanAt) ** 2, 0);
  const slopePerMinute = variance > 0 ? (covariance / variance) * 60 : 0;
  // RSS saw-tooths with V8's collections (a climb of ~100 MiB, then back), which a slope over a
  // few teeth misreads: the peaks of each half after warm-up say whether the ceiling moves.
  const half = Math.floor(values.length / 2);
  const [firstPeak, secondPeak] = [Math.max(...values.slice(0, half)), Math.max(...values.slice(half))];
  return {
    samples: values.length,
    minMiB: round(Math.min(...values), 2),
    maxMiB: round(Math.max(...values), 2),
    medianMiB: round(mid, 2),
    slopeMiBPerMinute: round(slopePerMinute, 3),
    flatWithin10Percent: values.every((v) => Math.abs(v - mid) <= FLAT_BAND * mid) ? 'yes' : 'no',
    peakFirstHalfMiB: round(firstPeak, 2),
    peakSecondHalfMiB: round(secondPeak, 2),
    peakGrowthPercent: round((100 * (secondPeak - firstPeak)) / firstPeak, 1),
  };
}

/** What this system's keys take in Redis (MEMORY USAGE of every key under its prefix), in MiB. */
async function prefixMiB(redis: ReturnType<typeof benchRedis>, prefix: string): Promise<number> {
  let bytes = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key);
    for (const [, size] of (await pipeline.exec()) ?? []) bytes += Number(size ?? 0);
  } while (cursor !== '0');
  return bytes / 1024 / 1024;
}

async function countReady(system: BenchSystem): Promise<number> {
  const { rows } = await system.pool.query(
    "select count(*)::int as n from personal_plan where status = 'ready'",
  );
  return rows[0].n;
}
