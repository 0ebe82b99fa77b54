import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Queue } from 'bullmq';
import { Notification, type TelegramUser } from '../../src/db/entities/index.ts';
import { spawnWorker, stopWorker } from '../helpers/child-worker.ts';
import { type FakeTelegramProcess, startFakeTelegramProcess } from '../helpers/fake-telegram-process.ts';
import { seedNotifications, seedUsers } from '../helpers/seed.ts';
import { TEST_REDIS_URL } from '../helpers/test-database.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Three worker processes share Telegram's real limits; the fake Bot API (in its own process, so its
// clock is not disturbed) enforces 30/s overall and 1/s per chat with sliding windows and answers
// 429 when either is exceeded.
let system: TestSystem;
let fake: FakeTelegramProcess;
const workers: ChildProcess[] = [];
test.before(async () => {
  fake = await startFakeTelegramProcess();
  system = await startTestSystem({ worker: false, env: { TELEGRAM_API_ROOT: fake.apiRoot } });
  for (let i = 0; i < 3; i++) workers.push(spawnWorker(system.childEnv));
  // Measure the steady state, not three processes compiling TypeScript while the first one sends.
  const queue = new Queue('notifications', {
    connection: { url: TEST_REDIS_URL },
    prefix: system.childEnv.QUEUE_PREFIX!,
  });
  await waitFor('three workers connected', async () => (await queue.getWorkersCount()) >= 3, 30_000, 200);
  await queue.close();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
});
test.after.always(async () => {
  await Promise.all(workers.map((worker) => stopWorker(worker)));
  await system?.stop();
  await fake?.stop();
});

test.serial('three workers never trip 30/s overall or 1/s per chat, and send everything once', async (t) => {
  // 75 chats with one message each, plus bursts of 6 messages to each of 3 chats.
  const many = await seedUsers(
    system.em(),
    Array.from({ length: 75 }, (_, i) => 6_000_000 + i),
  );
  const bursty = await seedUsers(system.em(), [6_100_001, 6_100_002, 6_100_003]);
  // The bursts are queued first, so a burst that held up the queue would hold up every single.
  const recipients = [...bursty.flatMap((user) => Array(6).fill(user) as TelegramUser[]), ...many];
  const ids = await seedNotifications(
    system.em(),
    recipients,
    (user) => `msg for ${user.telegramId} #${Math.random()}`,
  );

  await waitFor(
    'all sent',
    async () => (await system.em().count(Notification, { id: { $in: ids }, status: 'sent' })) === ids.length,
    60_000,
    1_000,
  );
  const { rateLimitHits, sentMessages } = await fake.state();
  t.is(rateLimitHits, 0, 'no 429 from the fake Bot API');
  t.is(sentMessages.length, ids.length, 'each notification sent exactly once');
  // Bursts to one chat were spaced by at least a second.
  for (const user of bursty) {
    const times = sentMessages.filter((m) => m.chatId === user.telegramId).map((m) => m.at);
    t.is(times.length, 6);
    for (let i = 1; i < times.length; i++)
      t.true(times[i]! - times[i - 1]! >= 1000, `gap ${times[i]! - times[i - 1]!} ms`);
  }
  // The one-message chats did not wait for the bursts queued before them: every single went out
  // before any burst could finish (a burst of 6 takes at least 5 s; the 93 messages fit in ~3 s).
  const first = Math.min(...sentMessages.map((m) => m.at));
  const lastSingle = Math.max(...sentMessages.filter((m) => m.chatId.startsWith('600')).map((m) => m.at));
  const burstsDone = Math.min(
    ...bursty.map((user) =>
      Math.max(...sentMessages.filter((m) => m.chatId === user.telegramId).map((m) => m.at)),
    ),
  );
  const timing = `singles done after ${lastSingle - first} ms, bursts after ${burstsDone - first} ms`;
  t.log(timing);
  t.true(lastSingle < burstsDone, timing);
  const rows = await system.em().find(Notification, { id: { $in: ids } });
  t.true(rows.every((row) => row.telegramMessageId !== null && row.sentAt !== null));
});
