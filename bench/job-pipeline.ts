import { performance } from 'node:perf_hooks';
import { Queue, Worker } from 'bullmq';
import { z } from 'zod';
import { jobHandlers } from '../jobs/catalogue.ts';
import type { JobHandler } from '../jobs/job-definition.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { JOBS, type JobSpec, QUEUES } from '../src/queue/job-catalogue.ts';
import { createOutboxWriter } from '../src/queue/outbox-writer.ts';
import { TEST_REDIS_URL } from '../test/helpers/test-database.ts';
import { startTestSystem } from '../test/helpers/test-system.ts';
import type { Handlers } from '../workers/job-runner.ts';
import { type Measure, median, percentile, progress, round } from './helpers/measure.ts';

/** Completion times (performance.now()) by `${run}:${n}`, written by both sides' processors. */
const done = new Map<string, number>();

const noopPayload = z.object({ tenantId: z.uuid(), run: z.string(), n: z.number().int() });
const noopSpec: JobSpec<typeof noopPayload> = {
  // The queue plans use: its concurrency, job options and never-binding limiter.
  queue: 'plans',
  payload: noopPayload,
  jobId: (p) => `noop-${p.run}-${p.n}`,
};
const noopHandler: JobHandler<z.output<typeof noopPayload>> = {
  async handle({ run, n }) {
    done.set(`${run}:${n}`, performance.now());
  },
};
const catalogue = { ...JOBS, 'bench.noop': noopSpec };
const writer = createOutboxWriter(catalogue);

interface SideRun {
  jobsPerSec: number;
  /** The burst's producer side alone: enqueues (commits, or Queue.add calls) per second. */
  enqueuePerSec: number;
  /** Jobs written 200 per transaction (addBulk of 200): the relay → BullMQ → worker drain. */
  bulkJobsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A no-op job through the project's whole path — a transaction writes its outbox row
 * (`enqueue`), the web process's relay publishes it to BullMQ, the worker's job runner parses
 * and runs it (startTestSystem with a catalogue holding `bench.noop` on the plans queue) — against
 * raw BullMQ on the same Redis: `Queue.add` → `Worker` with the same concurrency and job options.
 * Interleaved pairs; each run measures:
 * - throughput: a burst of `burst` jobs enqueued 16 at a time, one transaction (one Queue.add)
 *   each, completions/s from the first enqueue to the last completion — what many requests that
 *   each start a job cost;
 * - drain: the same number written 200 per transaction (addBulk of 200), which takes the
 *   producer's per-transaction cost out and leaves relay → BullMQ → worker;
 * - latency: an open-loop producer at `rate` jobs/s for 5 s (each job enqueued on schedule,
 *   whether or not earlier ones finished), p50/p99 of enqueue start → handler ran.
 * OUTBOX_POLL_MS is the production default (1 s): the relay is woken by the outbox trigger.
 *
 *   npm run bench -- jobs [burst] [rate per s] [pairs]
 */
export async function jobPipeline(burst = 2_000, rate = 100, pairs = 3): Promise<Measure[]> {
  const system = await startTestSystem({
    jobs: { catalogue, handlers: { ...jobHandlers, 'bench.noop': noopHandler } as Handlers },
    env: { LOG_LEVEL: 'warn', OUTBOX_POLL_MS: '1000' },
  });
  const connection = { url: TEST_REDIS_URL };
  // Under the system's prefix, so system.stop() removes its keys with the project's.
  const prefix = system.config.redis.queuePrefix;
  const queue = new Queue('bench-raw', {
    connection,
    prefix,
    defaultJobOptions: QUEUES.plans.jobOptions(system.config),
  });
  const worker = new Worker(
    'bench-raw',
    async (job) => {
      done.set(`${job.data.run}:${job.data.n}`, performance.now());
    },
    { connection, prefix, concurrency: QUEUES.plans.concurrency(system.config) },
  );
  const enqueue = {
    project: (run: string, n: number) =>
      system.em().transactional(async (tx) => {
        writer.enqueue(tx, 'bench.noop', { tenantId: DEFAULT_TENANT_ID, run, n });
      }),
    rawBullMq: async (run: string, n: number) => {
      await queue.add('noop', { run, n });
    },
  };
  const enqueueBatch = {
    project: (run: string, ns: number[]) =>
      system.em().transactional(async (tx) => {
        for (const n of ns) writer.enqueue(tx, 'bench.noop', { tenantId: DEFAULT_TENANT_ID, run, n });
      }),
    rawBullMq: async (run: string, ns: number[]) => {
      await queue.addBulk(ns.map((n) => ({ name: 'noop', data: { run, n } })));
    },
  };
  try {
    await worker.waitUntilReady();
    const runs: Record<keyof typeof enqueue, SideRun[]> = { project: [], rawBullMq: [] };
    const lines: Measure[] = [];
    // Warm-up: both paths once, small.
    for (const side of Object.keys(enqueue) as (keyof typeof enqueue)[]) {
      await measureSide(enqueue[side], enqueueBatch[side], `warm-${side}`, 200, rate, 1);
    }
    for (let pair = 1; pair <= pairs; pair++) {
      for (const side of Object.keys(enqueue) as (keyof typeof enqueue)[]) {
        const run = await measureSide(enqueue[side], enqueueBatch[side], `${side}-${pair}`, burst, rate, 5);
        runs[side].push(run);
        lines.push({ benchmark: 'jobs', side, pair, burst, ...roundRun(run), rate });
        progress(
          `pair ${pair} ${side}: ${round(run.jobsPerSec)} jobs/s, p99 ${round(run.p99Ms)} ms at ${rate}/s`,
        );
      }
    }
    const summary = (side: keyof typeof enqueue) => ({
      jobsPerSec: median(runs[side].map((r) => r.jobsPerSec)),
      enqueuePerSec: median(runs[side].map((r) => r.enqueuePerSec)),
      bulkJobsPerSec: median(runs[side].map((r) => r.bulkJobsPerSec)),
      p50Ms: median(runs[side].map((r) => r.p50Ms)),
      p99Ms: median(runs[side].map((r) => r.p99Ms)),
    });
    const [project, raw] = [summary('project'), summary('rawBullMq')];
    const ratios = runs.project.map((r, i) => r.jobsPerSec / runs.rawBullMq[i]!.jobsPerSec);
    const bulkRatios = runs.project.map((r, i) => r.bulkJobsPerSec / runs.rawBullMq[i]!.bulkJobsPerSec);
    lines.push({
      benchmark: 'jobs',
      side: 'summary (medians)',
      burst,
      rate,
      pairs,
      projectJobsPerSec: round(project.jobsPerSec),
      projectEnqueuePerSec: round(project.enqueuePerSec),
      projectBulkJobsPerSec: round(project.bulkJobsPerSec),
      projectP50Ms: round(project.p50Ms, 2),
      projectP99Ms: round(project.p99Ms, 2),
      rawBullMqJobsPerSec: round(raw.jobsPerSec),
      rawBullMqEnqueuePerSec: round(raw.enqueuePerSec),
      rawBullMqBulkJobsPerSec: round(raw.bulkJobsPerSec),
      rawBullMqP50Ms: round(raw.p50Ms, 2),
      rawBullMqP99Ms: round(raw.p99Ms, 2),
      ratioJobsPerSec: round(median(ratios), 3),
      ratioBulkJobsPerSec: round(median(bulkRatios), 3),
    });
    return lines;
  } finally {
    await worker.close();
    await queue.close();
    await system.stop();
  }
}

const roundRun = (run: SideRun) => ({
  jobsPerSec: round(run.jobsPerSec),
  enqueuePerSec: round(run.enqueuePerSec),
  bulkJobsPerSec: round(run.bulkJobsPerSec),
  p50Ms: round(run.p50Ms, 2),
  p99Ms: round(run.p99Ms, 2),
});

async function measureSide(
  enqueue: (run: string, n: number) => Promise<unknown>,
  enqueueBatch: (run: string, ns: number[]) => Promise<unknown>,
  run: string,
  burst: number,
  rate: number,
  pacedSeconds: number,
): Promise<SideRun> {
  // Throughput: closed loop, 16 producers.
  const burstStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < burst) await enqueue(`${run}-burst`, next++);
    }),
  );
  const enqueuePerSec = burst / ((performance.now() - burstStart) / 1000);
  await allDone(`${run}-burst`, burst);
  const lastDone = Math.max(...Array.from({ length: burst }, (_, n) => done.get(`${run}-burst:${n}`)!));
  const jobsPerSec = burst / ((lastDone - burstStart) / 1000);

  // Drain: the same number of jobs written 200 per transaction, one batch after the other.
  const bulkStart = performance.now();
  for (let start = 0; start < burst; start += 200) {
    const size = Math.min(200, burst - start);
    await enqueueBatch(
      `${run}-bulk`,
      Array.from({ length: size }, (_, i) => start + i),
    );
  }
  await allDone(`${run}-bulk`, burst);
  const bulkDone = Math.max(...Array.from({ length: burst }, (_, n) => done.get(`${run}-bulk:${n}`)!));
  const bulkJobsPerSec = burst / ((bulkDone - bulkStart) / 1000);

  // Latency: open loop at a fixed rate, so a slow path shows as latency, not as fewer jobs.
  const total = Math.round(rate * pacedSeconds);
  const started: number[] = [];
  const pacedStart = performance.now();
  const enqueued: Promise<unknown>[] = [];
  for (let n = 0; n < total; n++) {
    const due = pacedStart + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    started[n] = performance.now();
    enqueued.push(enqueue(`${run}-paced`, n));
  }
  await Promise.all(enqueued);
  await allDone(`${run}-paced`, total);
  const latencies = started.map((at, n) => done.get(`${run}-paced:${n}`)! - at);
  return {
    jobsPerSec,
    enqueuePerSec,
    bulkJobsPerSec,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function allDone(run: string, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    let finished = 0;
    for (let n = 0; n < count; n++) if (done.has(`${run}:${n}`)) finished++;
    if (finished === count) return;
    if (Date.now() > deadline) throw new Error(`${run}: only ${finished}/${count} jobs ran within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
