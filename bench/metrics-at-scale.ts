import { Redis } from 'ioredis';
import type { JobContext, JobDeps } from '../jobs/job-definition.ts';
import { recomputeMetricsJob } from '../jobs/recompute-metrics.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { metricsQueries } from '../src/domain/panel-metrics.ts';
import { panelLogin } from '../test/helpers/panel-login.ts';
import { TEST_REDIS_URL } from '../test/helpers/test-database.ts';
import { startTestSystem } from '../test/helpers/test-system.ts';
import { sequentialGets, sequentialRuns } from './helpers/latency.ts';
import { type Measure, median, progress, round } from './helpers/measure.ts';
import {
  connectSeeder,
  explain,
  planSummary,
  seedPeople,
  seedSubscriptions,
  vacuumAnalyze,
} from './helpers/seed-at-scale.ts';

const OWNER = 5_300_000_001;

/**
 * The panel metrics at scale: 100,000 users and 1,000,000 applications (each with its survey and
 * plan, two years of history, one every 63 s), 20% of users clients, 10,000 Stars subscriptions
 * with their events, seeded by generate_series into the system's own database.
 * - recompute: the real `metrics.recompute` handler (Redis lock, the aggregate queries, snapshot
 *   upsert, cache write), called in this process `runs` times in a row; the first run meets a
 *   buffer cache that seeding and VACUUM left, as a worker would after a quiet night.
 * - read: `GET /api/panel/metrics` with a panel session cookie, one request at a time, after the
 *   recompute filled the cache (the path every panel load takes); beside it the floor,
 *   `GET /api/panel/session` (the same cookie check, nothing else), so a loaded machine shows as such.
 * - plans: EXPLAIN (ANALYZE, BUFFERS) of each recompute statement, one summary line each; the full
 *   text goes to stderr (docs/benchmarks.md quotes it).
 *
 *   npm run bench -- metrics [recompute runs] [read requests]
 */
export async function metricsAtScale(runs = 5, reads = 2000): Promise<Measure[]> {
  const system = await startTestSystem({
    worker: false,
    env: { LOG_LEVEL: 'warn', TELEGRAM_ADMINS: String(OWNER) },
  });
  const seeder = await connectSeeder(system.db.url);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const now = new Date();
    const started = performance.now();
    const seeded = await seedPeople(seeder, {
      users: 100_000,
      applications: 1_000_000,
      userSpacingSeconds: 600,
      applicationSpacingSeconds: 63,
      now,
      clients: false,
    });
    await seeder.run('update telegram_user set is_client = true where telegram_id % 5 = 0');
    await seedSubscriptions(seeder, { count: 10_000, now });
    await vacuumAnalyze(seeder, [
      'telegram_user',
      'survey',
      'application',
      'personal_plan',
      'subscription',
      'subscription_event',
    ]);
    const seedSeconds = round((performance.now() - started) / 1000, 1);
    progress(
      `seeded in ${seedSeconds} s (${JSON.stringify(seeded, (_k, v) => (typeof v === 'number' ? Math.round(v) : v))})`,
    );

    // The handler's whole interface: the ORM, the shared Redis, a job id and a logger.
    const deps = { orm: system.orm, redis: { client: redis, keyPrefix: system.config.redis.queuePrefix } };
    const ctx = {
      jobId: 'bench',
      attemptsMade: 0,
      maxAttempts: 1,
      log: system.logger,
      delay: () => {
        throw new Error('the metrics lock was taken: something else recomputes this tenant');
      },
    } as unknown as JobContext;
    const recompute = await sequentialRuns(
      () => recomputeMetricsJob.handle({ tenantId: DEFAULT_TENANT_ID }, deps as unknown as JobDeps, ctx),
      { runs, warmup: 0 },
    );
    progress(`recompute: ${recompute.samples.map((ms) => Math.round(ms)).join(', ')} ms`);

    const cookie = await panelLogin(() => system).loggedIn(OWNER);
    const read = await sequentialGets(
      `${system.baseUrl}/api/panel/metrics`,
      { cookie },
      { requests: reads, warmup: 100 },
    );
    // The floor on this machine at this moment: the same session check with nothing behind it.
    const floor = await sequentialGets(
      `${system.baseUrl}/api/panel/session`,
      { cookie },
      { requests: reads, warmup: 100 },
    );
    progress(`read: p50 ${read.p50Ms} ms, p99 ${read.p99Ms} ms (session floor p99 ${floor.p99Ms} ms)`);

    const plans: Measure = {};
    for (const [name, query] of Object.entries(metricsQueries(DEFAULT_TENANT_ID, new Date()))) {
      const lines = await explain(seeder, numbered(query.sql), query.params);
      process.stderr.write(`\n--- EXPLAIN metrics ${name}\n${lines.join('\n')}\n`);
      plans[`plan_${name}`] = planSummary(lines);
    }
    return [
      {
        side: 'summary',
        users: 100_000,
        applications: 1_000_000,
        seedSeconds,
        recomputeFirstSeconds: round(recompute.samples[0]! / 1000, 3),
        recomputeMedianSeconds: round(median(recompute.samples) / 1000, 3),
        recomputeMaxSeconds: round(Math.max(...recompute.samples) / 1000, 3),
        recomputeRuns: runs,
        recomputeTargetSeconds: 2,
        readP50Ms: read.p50Ms,
        readP99Ms: read.p99Ms,
        readRequests: read.requests,
        sessionFloorP50Ms: floor.p50Ms,
        sessionFloorP99Ms: floor.p99Ms,
        readTargetP99Ms: 10,
      },
      { side: 'plans', ...plans },
    ];
  } finally {
    redis.disconnect();
    await seeder.close();
    await system.stop();
  }
}

/** The ORM's `?` placeholders as pg's `$1, $2, …` (the statements hold no other `?`). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
