import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Broadcast, Outbox } from '../src/db/entities/index.ts';
import { createOrm, DEFAULT_TENANT_ID, forkForTenant, migrateUp } from '../src/db/orm.ts';
import { createBroadcast } from '../src/domain/broadcasts.ts';
import { spawnWorker, stopWorker } from '../test/helpers/child-worker.ts';
import { startFakeTelegramProcess } from '../test/helpers/fake-telegram-process.ts';
import { TEST_BOT_TOKEN } from '../test/helpers/init-data.ts';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '../test/helpers/test-database.ts';

/** Peak resident memory of a process (Linux), in MiB. */
function peakRssMiB(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
}

/**
 * A broadcast to N clients (default 100,000): how long the fan-out takes until every recipient's
 * job is in Redis, and the worker process's peak memory — which must not grow with N.
 *
 *   npm run bench -- broadcast [recipients]
 */
export async function broadcastFanOut(recipients = 100_000): Promise<Record<string, number>> {
  const db = await createTestDatabase();
  const fake = await startFakeTelegramProcess();
  const prefix = uniquePrefix('bench');
  const orm = await createOrm({ url: db.url });
  await migrateUp(orm);
  const worker = spawnWorker({
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    WORKER_QUEUES: 'notifications',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
    // A hard heap cap turns "memory grows with the audience" into a crash instead of a number.
    NODE_OPTIONS: `--max-old-space-size=${process.env.BENCH_WORKER_HEAP_MB ?? 128}`,
  });
  const queue = new Queue('notifications', { connection: { url: TEST_REDIS_URL }, prefix });
  try {
    const em = forkForTenant(orm);
    await em.getConnection().execute(
      `insert into telegram_user (id, tenant_id, telegram_id, first_name, is_client, created_at, updated_at)
       select gen_random_uuid(), ?, 8000000000 + n, 'Client ' || n, true, now(), now() from generate_series(1, ?) n`,
      [DEFAULT_TENANT_ID, recipients],
    );
    const [actor] = await em
      .getConnection()
      .execute<{ id: string }[]>('select id from telegram_user limit 1');
    while ((await queue.getWorkersCount()) < 1) await new Promise((resolve) => setTimeout(resolve, 200));
    const baselineMiB = peakRssMiB(worker.pid!);

    const started = Date.now();
    const broadcast = await createBroadcast(forkForTenant(orm), {
      tenantId: DEFAULT_TENANT_ID,
      actorId: actor!.id,
      text: 'Gym closed on Monday; home workout in the app.',
      segment: 'clients',
    });
    let fannedOutMs = 0;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const check = forkForTenant(orm);
      const row = await check.findOneOrFail(Broadcast, { id: broadcast.id });
      if (row.status !== 'fanning_out' && !fannedOutMs) fannedOutMs = Date.now() - started;
      const unpublished = await check.count(Outbox, { publishedAt: null });
      process.stderr.write(
        `\r  enqueued ${row.total}/${recipients}, unpublished outbox rows ${unpublished}   `,
      );
      if (fannedOutMs && unpublished === 0) break;
    }
    process.stderr.write('\n');
    return {
      recipients,
      fanOutSeconds: Math.round(fannedOutMs / 100) / 10,
      allJobsInRedisSeconds: Math.round((Date.now() - started) / 100) / 10,
      workerPeakRssMiB: peakRssMiB(worker.pid!),
      workerBaselineRssMiB: baselineMiB,
      workerHeapCapMiB: Number(process.env.BENCH_WORKER_HEAP_MB ?? 128),
    };
  } finally {
    await stopWorker(worker);
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await orm.close();
    await fake.stop();
    await db.drop();
  }
}
