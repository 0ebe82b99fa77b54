import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '../src/config/env.ts';
import { Notification } from '../src/db/entities/index.ts';
import { createOrm, forkForTenant, migrateUp } from '../src/db/orm.ts';
import { spawnWorker, stopWorker } from '../test/helpers/child-worker.ts';
import { startFakeTelegramProcess } from '../test/helpers/fake-telegram-process.ts';
import { TEST_BOT_TOKEN } from '../test/helpers/init-data.ts';
import { seedNotifications, seedUsers } from '../test/helpers/seed.ts';
import { createTestDatabase, TEST_REDIS_URL, uniquePrefix } from '../test/helpers/test-database.ts';

/**
 * N notifications (default 10,000) to distinct chats through the fake Bot API, which enforces
 * Telegram's limits (30/s overall, 1/s per chat) and answers 429 beyond them. Reports achieved
 * messages/s against the 30/s ceiling and the 429s received.
 *
 *   npm run bench -- notifications [count] [workers]
 */
export async function notificationThroughput(
  count = 10_000,
  workerCount = 3,
): Promise<Record<string, number>> {
  const db = await createTestDatabase();
  const fake = await startFakeTelegramProcess();
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: uniquePrefix('bench'),
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: fake.apiRoot,
    LOG_LEVEL: 'warn',
    // Several workers on one machine: each would want the default metrics port.
    WORKER_METRICS_PORT: '0',
  };
  loadConfig(env);
  const orm = await createOrm({ url: db.url });
  await migrateUp(orm);
  const workers: ChildProcess[] = [];
  try {
    const users = [];
    for (let start = 0; start < count; start += 1000) {
      const ids = Array.from({ length: Math.min(1000, count - start) }, (_, i) => 7_000_000_000 + start + i);
      users.push(...(await seedUsers(forkForTenant(orm), ids)));
    }
    for (let i = 0; i < workerCount; i++) workers.push(spawnWorker(env));
    // A worker that failed to boot would quietly turn this into a benchmark of fewer workers.
    let exitedEarly = 0;
    for (const worker of workers) worker.once('exit', () => exitedEarly++);
    const started = Date.now();
    for (let start = 0; start < users.length; start += 1000) {
      await seedNotifications(forkForTenant(orm), users.slice(start, start + 1000));
    }
    let sent = 0;
    while (sent < count) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      if (exitedEarly > 0) throw new Error(`${exitedEarly} of ${workerCount} worker processes exited early`);
      sent = await forkForTenant(orm).count(Notification, { status: 'sent' });
      process.stderr.write(`\r  sent ${sent}/${count}`);
    }
    process.stderr.write('\n');
    const state = await fake.state();
    const times = state.sentMessages.map((m) => m.at).sort((a, b) => a - b);
    // Rate between the first and the last arrival at the fake: what Telegram would see.
    const seconds = (times.at(-1)! - times[0]!) / 1000;
    return {
      notifications: count,
      workers: workerCount,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
      messagesPerSecond: Math.round(((times.length - 1) / seconds) * 100) / 100,
      ceilingPerSecond: 30,
      rateLimited429: state.rateLimitHits,
    };
  } finally {
    await Promise.all(workers.map((worker) => stopWorker(worker)));
    await orm.close();
    await fake.stop();
    await db.drop();
  }
}
