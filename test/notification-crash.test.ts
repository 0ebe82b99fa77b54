import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Notification, TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { queueNotification } from '../src/domain/notifications.ts';
import { createSendPacer } from '../src/queue/send-pacer.ts';
import { botIdFromToken } from '../workers/tenant-bots.ts';
import { spawnWorker } from './helpers/child-worker.ts';
import { authHeader, TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

test('a worker killed while its message waits for a send slot: the next worker still sends it, once', async (t) => {
  const system = await startTestSystem({
    worker: false,
    env: { WORKER_LOCK_MS: '3000', WORKER_STALLED_INTERVAL_MS: '1000' },
  });
  const prefix = system.config.redis.queuePrefix;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('notifications', { connection: redis, prefix });
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of children) child.kill('SIGKILL');
    await queue.close();
    await system.stop();
    redis.disconnect();
  });

  const first = spawnWorker(system.childEnv);
  children.push(first);
  await waitFor('the first worker is listening', async () => (await queue.getWorkers()).length > 0, 30_000);

  const telegramId = 9301;
  t.is((await system.request('/api/me', { auth: authHeader({ id: telegramId }) })).status, 200);
  // Telegram just answered 429 with retry_after=8 elsewhere: every send now waits for the pause.
  const pacer = createSendPacer({
    redis,
    keyPrefix: prefix,
    // The default tenant's bot: each bot has its own pacer.
    botId: botIdFromToken(TEST_BOT_TOKEN),
    messagesPerSecond: system.config.telegram.messagesPerSecond,
    requestTimeoutMs: system.config.telegram.timeoutMs,
  });
  await pacer.pauseAll(8_000);
  const em = system.em();
  const user = await em.findOneOrFail(TelegramUser, { telegramId: String(telegramId) });
  const notification = queueNotification(em, {
    tenantId: DEFAULT_TENANT_ID,
    user,
    kind: 'test',
    dedupeKey: `crash-test:${telegramId}`,
    text: 'Your coach has a message for you.',
    button: null,
    now: new Date(),
  });
  await em.flush();

  const jobId = `notification-${notification.id}`;
  // A slot 8 s away is waited for in the delayed set, not in a worker: the first worker reserved
  // the chat's slot after the pause and handed the job back with it.
  await waitFor('the first worker delayed the job to its slot', async () => {
    const job = await queue.getJob(jobId);
    return (await job?.getState()) === 'delayed' && typeof job?.data.sendSlotAt === 'number';
  });
  t.is(system.telegram.sentMessages.length, 0, 'killed before anything was sent');
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));

  children.push(spawnWorker(system.childEnv));
  const sent = await waitFor(
    'sent by the second worker',
    async () => {
      const row = await system.em().findOne(Notification, { id: notification.id });
      return row?.status === 'sent' || row?.status === 'uncertain' ? row : null;
    },
    40_000,
  );
  t.is(sent.status, 'sent', 'a message that never left is not written off as uncertain');
  t.is(sent.attempts, 1);
  t.deepEqual(
    system.telegram.sentMessages.filter((m) => m.chatId === String(telegramId)).map((m) => m.text),
    ['Your coach has a message for you.'],
  );
});
