import type { ChildProcess } from 'node:child_process';
import { Queue, Worker } from 'bullmq';
import { loadConfig } from '../src/config/env.ts';
import { PersonalPlan, type TelegramUser } from '../src/db/entities/index.ts';
import { createOrm, DEFAULT_TENANT_ID, forkForTenant, migrateUp } from '../src/db/orm.ts';
import { submitSurvey } from '../src/domain/surveys.ts';
import { TEST_BOT_TOKEN, validAnswers } from '../test/helpers/init-data.ts';
import { seedUsers } from '../test/helpers/seed.ts';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '../test/helpers/test-database.ts';
import { cpuSeconds, removeKeys, spawnCli, stopChild } from './helpers/processes.ts';

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * A coach's broadcast brings N clients (default 1,000) who each submit a survey at once: how fast
 * does ONE worker process (`src/cli/worker.ts`, production config, default settings, offline
 * generator) turn their queued plans into ready ones? Surveys go through the domain
 * (`submitSurvey`: survey, application, queued plan and outbox row in one transaction) before
 * the worker starts, so the worker's outbox relay publishes the jobs as it would after a burst.
 * Throughput is measured from the first to the last plan's readyAt. Then, in the same Redis, a
 * raw BullMQ Queue + Worker (no-op processor, same concurrency and job options) runs the same
 * number of jobs: the ceiling of the queue itself, so the plan figure is also a ratio of it.
 *
 *   npm run bench -- plans [count]
 */
export async function planDrain(count = 1_000): Promise<Record<string, number>> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix('bench');
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    // Nothing is sent: this worker drains plans only (plan-ready messages wait in their queue).
    TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
    WORKER_QUEUES: 'plans',
    // Explicit, so an OPENAI_API_KEY in the caller's environment cannot turn this into an AI bench.
    AI_PROVIDER: 'offline',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const orm = await createOrm({ url: db.url });
  await migrateUp(orm);
  const worker = { child: undefined as ChildProcess | undefined };
  try {
    const users: TelegramUser[] = [];
    for (let start = 0; start < count; start += 1000) {
      const ids = Array.from({ length: Math.min(1000, count - start) }, (_, i) => 6_000_000_000 + start + i);
      users.push(...(await seedUsers(forkForTenant(orm), ids)));
    }
    // One survey per client, 16 submissions at a time, all committed before the worker starts.
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < users.length) {
          const user = users[next++]!;
          await submitSurvey(forkForTenant(orm), {
            tenantId: DEFAULT_TENANT_ID,
            userId: user.id,
            answers: { ...validAnswers, equipment: [...validAnswers.equipment] },
            plansPerDay: config.plans.perUserPerDay,
          });
        }
      }),
    );

    const spawnedAt = Date.now();
    worker.child = spawnCli('worker', env);
    let exited = false;
    worker.child.once('exit', () => {
      exited = true;
    });
    const deadline = spawnedAt + Math.max(300_000, count * 100);
    let ready = 0;
    // The worker's CPU use while plans become ready (its boot excluded): near 100% = CPU-bound.
    let cpuAtFirstReady: { at: number; cpu: number; ready: number } | undefined;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (exited) throw new Error('the worker process exited early');
      const em = forkForTenant(orm);
      ready = await em.count(PersonalPlan, { status: 'ready' });
      const failed = await em.count(PersonalPlan, { status: 'failed' });
      process.stderr.write(
        `\r  ready ${ready}/${count} after ${round((Date.now() - spawnedAt) / 1000)} s   `,
      );
      if (failed > 0) throw new Error(`${failed} plans failed`);
      if (ready > 0 && !cpuAtFirstReady)
        cpuAtFirstReady = { at: Date.now(), cpu: cpuSeconds(worker.child.pid!), ready };
      if (ready === count) break;
      if (Date.now() > deadline) throw new Error(`only ${ready}/${count} plans ready in time`);
    }
    process.stderr.write('\n');
    const workerCpu = cpuAtFirstReady ? cpuSeconds(worker.child.pid!) - cpuAtFirstReady.cpu : Number.NaN;
    const workerCpuPercent = cpuAtFirstReady
      ? (100 * workerCpu) / ((Date.now() - cpuAtFirstReady.at) / 1000)
      : Number.NaN;
    // CPU per plan, from the same window: less sensitive to other load on the machine than plans/s.
    const workerCpuMsPerPlan = cpuAtFirstReady
      ? (1000 * workerCpu) / (count - cpuAtFirstReady.ready)
      : Number.NaN;
    const [span] = await forkForTenant(orm)
      .getConnection()
      .execute<{ first: string; last: string }[]>(
        `select extract(epoch from min(ready_at)) * 1000 as first, extract(epoch from max(ready_at)) * 1000 as last
         from personal_plan where status = 'ready'`,
      );
    const [firstMs, lastMs] = [Number(span!.first), Number(span!.last)];
    const drainMs = lastMs - firstMs;
    await stopChild(worker.child);

    const baseline = await rawBullMqDrain(
      count,
      prefix,
      config.plans.workerConcurrency,
      config.plans.attempts,
    );
    const plansPerSecond = (count - 1) / (drainMs / 1000);
    return {
      plans: count,
      workerProcesses: 1,
      concurrency: config.plans.workerConcurrency,
      aiRequestsPerMinute: config.ai.requestsPerMinute,
      drainSeconds: round(drainMs / 1000, 2),
      firstReadySecondsAfterSpawn: round((firstMs - spawnedAt) / 1000),
      plansPerSecond: round(plansPerSecond),
      workerCpuPercent: Math.round(workerCpuPercent),
      workerCpuMsPerPlan: round(workerCpuMsPerPlan, 2),
      baselineJobsPerSecond: round(baseline),
      ratioToBaseline: round(plansPerSecond / baseline, 3),
    };
  } finally {
    if (worker.child) await stopChild(worker.child);
    await removeKeys(prefix);
    await orm.close();
    await db.drop();
  }
}

/** Raw BullMQ: N no-op jobs added up front, one Worker; completions per second, first to last. */
async function rawBullMqDrain(
  count: number,
  prefix: string,
  concurrency: number,
  attempts: number,
): Promise<number> {
  const connection = { url: TEST_REDIS_URL };
  const name = 'baseline';
  const queue = new Queue(name, {
    connection,
    prefix,
    // The plans queue's job options (retention included: removing a completed job is part of the cost).
    defaultJobOptions: {
      attempts,
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
  });
  try {
    for (let start = 0; start < count; start += 1000) {
      const size = Math.min(1000, count - start);
      await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'noop', data: { n: start + i } })));
    }
    const finished: number[] = [];
    const done = new Promise<void>((resolve) => {
      const worker = new Worker(name, async () => {}, { connection, prefix, concurrency });
      worker.on('completed', () => {
        finished.push(Date.now());
        if (finished.length === count) void worker.close().then(() => resolve());
      });
    });
    await done;
    return (count - 1) / ((finished.at(-1)! - finished[0]!) / 1000);
  } finally {
    await queue.close();
  }
}
