import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { Notification, TelegramUser } from '../src/db/entities/index.ts';
import { spawnWorker, stopWorker } from './helpers/child-worker.ts';
import { seedNotifications, seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// How each Bot API answer is handled, with a worker in its own process as in production.
let system: TestSystem;
let worker: ChildProcess;
test.before(async () => {
  // A short Telegram timeout for the hang test; the other tests' sends are local and quick.
  system = await startTestSystem({
    worker: false,
    env: { JOB_BACKOFF_BASE_MS: '100', TELEGRAM_TIMEOUT_MS: '3000' },
  });
  worker = spawnWorker(system.childEnv);
});
test.after.always(async () => {
  if (worker) await stopWorker(worker);
  await system?.stop();
});

async function statusOf(ids: string[]) {
  return system.em().find(Notification, { id: { $in: ids } });
}

test.serial('429 from Telegram: everyone waits retry_after, the message is still sent once', async (t) => {
  const [user] = await seedUsers(system.em(), [6_200_001]);
  system.telegram.failNext(1, 'rate_limited', { retryAfterSeconds: 1, method: 'sendMessage' });
  const [id] = await seedNotifications(system.em(), [user!]);
  const row = await waitFor(
    'sent',
    async () => {
      const [r] = await statusOf([id!]);
      return r?.status === 'sent' ? r : null;
    },
    20_000,
  );
  t.is(system.telegram.sentMessages.filter((m) => m.chatId === '6200001').length, 1);
  t.truthy(row.telegramMessageId);
});

test.serial(
  '403 deactivated → failed, user unreachable, no retry; 400 chat not found → failed',
  async (t) => {
    const [gone, missing] = await seedUsers(system.em(), [6_300_001, 6_300_002]);
    system.telegram.deactivateChat('6300001');
    system.telegram.setChatNotFound('6300002');
    const ids = await seedNotifications(system.em(), [gone!, missing!]);
    const rows = await waitFor(
      'both failed',
      async () => {
        const r = await statusOf(ids);
        return r.every((row) => row.status === 'failed') ? r : null;
      },
      20_000,
    );
    t.true(
      rows.every((row) => row.attempts === 1),
      'no retries',
    );
    const user = await system.em().findOneOrFail(TelegramUser, { telegramId: '6300001' });
    t.truthy(user.unreachableAt);
    // A later notification to the unreachable user is not even attempted.
    const callsBefore = system.telegram.calls.filter((c) => c.method === 'sendMessage').length;
    const [again] = await seedNotifications(system.em(), [gone!]);
    const later = await waitFor(
      'failed without a call',
      async () => {
        const [r] = await statusOf([again!]);
        return r?.status === 'failed' ? r : null;
      },
      20_000,
    );
    t.is(later.error, 'user_unreachable');
    t.is(system.telegram.calls.filter((c) => c.method === 'sendMessage').length, callsBefore);
  },
);

test.serial('5xx is retried; a request that may have been delivered is never resent', async (t) => {
  const [flaky, hung] = await seedUsers(system.em(), [6_400_001, 6_400_002]);
  // Only sendMessage: the system's own background calls (billing sync) must not take the failure.
  system.telegram.failNext(2, 'server_error', { method: 'sendMessage' });
  const [flakyId] = await seedNotifications(system.em(), [flaky!]);
  await waitFor('flaky sent', async () => (await statusOf([flakyId!]))[0]?.status === 'sent', 20_000);
  t.is(system.telegram.sentMessages.filter((m) => m.chatId === '6400001').length, 1);

  system.telegram.failNext(1, 'hang_after_delivery', { method: 'sendMessage' });
  const [hungId] = await seedNotifications(system.em(), [hung!]);
  const row = await waitFor(
    'uncertain',
    async () => {
      const [r] = await statusOf([hungId!]);
      return r?.status === 'uncertain' ? r : null;
    },
    20_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  t.is(
    system.telegram.sentMessages.filter((m) => m.chatId === '6400002').length,
    1,
    'delivered once, not resent',
  );
  t.is((await statusOf([hungId!]))[0]?.status, 'uncertain');
  t.truthy(row.error);
});

test.serial('a split message whose second part fails is never resent (at most once)', async (t) => {
  const [user] = await seedUsers(system.em(), [6_500_001]);
  const text = `${'First part. '.repeat(400)}\n\n${'Second part. '.repeat(100)}`;
  const [id] = await seedNotifications(system.em(), [user!], () => text);
  await waitFor(
    'first part delivered',
    () => system.telegram.sentMessages.some((m) => m.chatId === '6500001'),
    20_000,
    20,
  );
  system.telegram.failNext(1, 'server_error', { method: 'sendMessage' });
  const row = await waitFor(
    'uncertain',
    async () => {
      const [r] = await statusOf([id!]);
      return r?.status === 'uncertain' ? r : null;
    },
    20_000,
  );
  t.regex(row.error ?? '', /only 1 part/);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.is(
    system.telegram.sentMessages.filter((m) => m.chatId === '6500001').length,
    1,
    'first part not sent twice',
  );
});

test.serial(
  'a rejected bot token keeps notifications pending instead of failing them for good',
  async (t) => {
    await stopWorker(worker);
    worker = spawnWorker({
      ...system.childEnv,
      TELEGRAM_BOT_TOKEN: '1000000001:AAWrongTokenWrongTokenWrongToken',
    });
    const [user] = await seedUsers(system.em(), [6_600_001]);
    const [id] = await seedNotifications(system.em(), [user!]);
    await waitFor('send attempted', async () => ((await statusOf([id!]))[0]?.attempts ?? 0) > 0, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const [row] = await statusOf([id!]);
    t.is(row?.status, 'pending');
    t.is(system.telegram.sentMessages.filter((m) => m.chatId === '6600001').length, 0);
  },
);
