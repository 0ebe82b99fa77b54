import test, { type ExecutionContext } from 'ava';
import { BillingSyncError } from '../src/billing/billing-sync-error.ts';
import { readBillingSyncState } from '../src/billing/billing-sync-state.ts';
import {
  Notification,
  Subscription,
  SubscriptionEvent,
  type TelegramUser,
} from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { enqueueOnce } from '../src/queue/outbox-writer.ts';
import { startFakeBillingService } from './fakes/fake-billing-service.ts';
import { billingRowCounts, eventKinds, QUEUES_BUT_BILLING, runSync } from './helpers/billing-sync.ts';
import { seedSubscription, seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

const DAY = 86_400_000;

async function setup(t: ExecutionContext, env: Record<string, string> = {}) {
  const billing = await startFakeBillingService();
  const system = await startTestSystem({
    env: {
      WORKER_QUEUES: QUEUES_BUT_BILLING,
      BILLING_PROVIDER: 'http',
      BILLING_URL: billing.url,
      BILLING_API_KEY: billing.apiKey,
      BILLING_BATCH_SIZE: '4',
      BILLING_TIMEOUT_MS: '300',
      ...env,
    },
  });
  t.teardown(async () => {
    await system.stop();
    await billing.close();
  });
  return { system, billing };
}

const failures = async (system: TestSystem, reason: string) => {
  const metric = await system.metrics.registry.getSingleMetric('billing_sync_failures_total')?.get();
  return metric?.values.find((v) => v.labels.provider === 'http' && v.labels.reason === reason)?.value ?? 0;
};

const row = (system: TestSystem, user: TelegramUser | undefined) =>
  system.em().findOne(Subscription, { userId: user!.id }, { refresh: true });

test.serial(
  'one request per batch: N users are ceil(N / BILLING_BATCH_SIZE) calls, never one per user',
  async (t) => {
    const { system, billing } = await setup(t);
    const em = system.em();
    const clients = await seedUsers(
      em,
      Array.from({ length: 9 }, (_, i) => 8_100_000 + i),
      { isClient: true },
    );
    const [subscriber, stranger] = await seedUsers(em, [8_100_100, 8_100_101]);
    seedSubscription(em, subscriber!, { provider: 'http', currency: 'EUR' });
    await em.flush();
    billing.set(clients[0]!.telegramId, { status: 'active' });

    const summary = await runSync(system);
    t.like(summary.http, { calls: 3, users: 10 });
    t.is(billing.calls, 3);
    t.deepEqual(billing.batchSizes, [4, 4, 2]);
    t.true(
      billing.askedIds.includes(subscriber!.telegramId),
      'a non-client with a subscription row is asked about',
    );
    t.false(billing.askedIds.includes(stranger!.telegramId), 'a user with neither is not');
    t.is(new Set(billing.askedIds).size, 10);
  },
);

test.serial(
  'statuses are mirrored with the event each change stands for, without client messages; a second run writes nothing',
  async (t) => {
    const { system, billing } = await setup(t);
    const em = system.em();
    const users = await seedUsers(
      em,
      Array.from({ length: 7 }, (_, i) => 8_200_000 + i),
      { isClient: true },
    );
    const [starter, canceller, renewer, refunder, expirer, renamer, vanisher] = users;
    const end = new Date(Date.now() + 10 * DAY);
    for (const user of users.slice(1)) {
      seedSubscription(em, user, {
        provider: 'http',
        planTitle: 'Coaching (external)',
        price: 1990,
        currency: 'EUR',
        currentPeriodEnd: end,
      });
    }
    await em.flush();
    const same = { currentPeriodEnd: end.toISOString() };
    billing.set(starter!.telegramId, { status: 'active' });
    billing.set(canceller!.telegramId, { ...same, status: 'cancelled', renews: false });
    billing.set(renewer!.telegramId, { currentPeriodEnd: new Date(end.getTime() + 30 * DAY).toISOString() });
    billing.set(refunder!.telegramId, { ...same, status: 'refunded', renews: false });
    billing.set(expirer!.telegramId, { ...same, status: 'expired', renews: false });
    billing.set(renamer!.telegramId, { ...same, planTitle: 'Coaching Pro', price: 2990 });
    // vanisher: the service no longer knows them.

    const first = await runSync(system);
    t.like(first.http, { calls: 2, users: 7, changed: 7 });
    const check = system.em();
    const expect: Array<[TelegramUser | undefined, string, string[]]> = [
      [starter, 'active', ['started']],
      [canceller, 'cancelled', ['cancelled']],
      [renewer, 'active', ['renewed']],
      [refunder, 'refunded', ['refunded']],
      [expirer, 'expired', ['expired']],
      [renamer, 'active', ['changed']],
      [vanisher, 'expired', ['expired']],
    ];
    for (const [user, status, kinds] of expect) {
      t.like(await row(system, user), { provider: 'http', status }, `telegram id ${user!.telegramId}`);
      t.deepEqual(await eventKinds(check, user!), kinds, `telegram id ${user!.telegramId}`);
    }
    t.like(await row(system, renamer), { planTitle: 'Coaching Pro', price: 2990, currency: 'EUR' });
    t.truthy((await row(system, vanisher))?.endedAt);
    t.is(await check.count(Notification, {}), 0, 'the external service talks to its own customers');
    const events = await check.find(SubscriptionEvent, {});
    t.true(events.every((event) => event.source === 'sync'));

    const counts = await billingRowCounts(system.em());
    const second = await runSync(system);
    t.like(second.http, { calls: 2, changed: 0 });
    t.deepEqual(await billingRowCounts(system.em()), counts);
  },
);

test.serial('a live Stars subscription is not the external service’s to change', async (t) => {
  const { system, billing } = await setup(t);
  const em = system.em();
  const [user] = await seedUsers(em, [8_250_000], { isClient: true });
  seedSubscription(em, user!, { provider: 'stars' });
  await em.flush();
  billing.set(user!.telegramId, { status: 'expired' });

  t.like((await runSync(system)).http, { changed: 0 });
  t.like(await row(system, user), { provider: 'stars', status: 'active' });
});

test.serial(
  'a slow service: the call times out, and the failure is counted and recorded with nothing written',
  async (t) => {
    const { system, billing } = await setup(t);
    const [user] = await seedUsers(system.em(), [8_300_000], { isClient: true });
    billing.set(user!.telegramId, { status: 'active' });
    billing.slow(1_000);

    const error = await t.throwsAsync(runSync(system), { instanceOf: BillingSyncError });
    t.is(error?.reason, 'timeout');
    t.is(error?.outsideService, 'billing');
    t.is(await failures(system, 'timeout'), 1);
    const state = await readBillingSyncState(system.em(), DEFAULT_TENANT_ID);
    t.regex(state.lastError ?? '', /^timeout: billing service did not answer within 300 ms/);
    t.is(state.lastSuccessAt, null);
    t.is(await row(system, user), null);
  },
);

test.serial(
  'through the worker: a timed-out run is retried by the queue and the next attempt mirrors the subscription',
  async (t) => {
    const billing = await startFakeBillingService();
    const system = await startTestSystem({
      env: {
        BILLING_PROVIDER: 'http',
        BILLING_URL: billing.url,
        BILLING_API_KEY: billing.apiKey,
        BILLING_TIMEOUT_MS: '200',
        JOB_BACKOFF_BASE_MS: '100',
      },
    });
    t.teardown(async () => {
      await system.stop();
      await billing.close();
    });
    const [user] = await seedUsers(system.em(), [8_350_000], { isClient: true });
    billing.set(user!.telegramId, { status: 'active' });
    billing.slow(1_000);
    await system
      .em()
      .transactional((tx) =>
        enqueueOnce(tx, 'billing.sync', [
          { tenantId: DEFAULT_TENANT_ID, trigger: 'webhook', requestKey: 'slow-1' },
        ]),
      );
    await waitFor('a timed-out attempt', async () => (await failures(system, 'timeout')) >= 1);
    billing.healthy();

    const mirrored = await waitFor('the retry to mirror it', () => row(system, user));
    t.like(mirrored, { provider: 'http', status: 'active' });
    const job = await system.worker!.queues.billing.getJob(`billing-${DEFAULT_TENANT_ID}-webhook-slow-1`);
    await waitFor('the job to complete', async () => (await job!.getState()) === 'completed');
    const done = await system.worker!.queues.billing.getJob(job!.id!);
    t.true(done!.attemptsMade >= 2, 'the first attempt failed and the queue ran it again');
    t.truthy((await readBillingSyncState(system.em(), DEFAULT_TENANT_ID)).lastSuccessAt);
  },
);

test.serial(
  'a service that is down (503 or a dropped connection) fails the run as provider_down',
  async (t) => {
    const { system, billing } = await setup(t);
    await seedUsers(system.em(), [8_400_000], { isClient: true });

    billing.down('status');
    t.is((await t.throwsAsync(runSync(system), { instanceOf: BillingSyncError }))?.reason, 'provider_down');
    billing.down('close');
    t.is((await t.throwsAsync(runSync(system), { instanceOf: BillingSyncError }))?.reason, 'provider_down');
    t.is(await failures(system, 'provider_down'), 2);

    billing.healthy();
    await runSync(system);
    t.truthy((await readBillingSyncState(system.em(), DEFAULT_TENANT_ID)).lastSuccessAt);
  },
);

test.serial('a malformed reply fails the run as bad_reply and writes nothing', async (t) => {
  const { system, billing } = await setup(t);
  const em = system.em();
  const users = await seedUsers(em, [8_500_000, 8_500_001], { isClient: true });
  seedSubscription(em, users[1]!, { provider: 'http', currency: 'EUR' });
  await em.flush();
  for (const user of users) billing.set(user.telegramId, { status: 'active', planTitle: 'New title' });
  const before = await billingRowCounts(system.em());

  for (const how of ['json', 'shape'] as const) {
    billing.wrong(how);
    const error = await t.throwsAsync(runSync(system), { instanceOf: BillingSyncError });
    t.is(error?.reason, 'bad_reply', how);
  }
  t.is(await failures(system, 'bad_reply'), 2);
  t.deepEqual(await billingRowCounts(system.em()), before);
  t.like(await row(system, users[1]), { planTitle: 'Monthly coaching' });
});

test.serial('a sync for named users asks about and touches only them', async (t) => {
  const { system, billing } = await setup(t);
  const em = system.em();
  const users = await seedUsers(em, [8_600_000, 8_600_001, 8_600_002], { isClient: true });
  for (const user of users) seedSubscription(em, user, { provider: 'http', currency: 'EUR' });
  await em.flush();
  // The service knows none of them any more; only the named one may be expired by this run.
  const summary = await runSync(system, [users[1]!.telegramId]);
  t.like(summary.http, { calls: 1, users: 1, changed: 1 });
  t.deepEqual(billing.askedIds, [users[1]!.telegramId]);
  t.is((await row(system, users[0]))?.status, 'active');
  t.is((await row(system, users[1]))?.status, 'expired');
  t.is((await row(system, users[2]))?.status, 'active');
});

test.serial('a wrong API key is a refusal, counted as error', async (t) => {
  const { system } = await setup(t, { BILLING_API_KEY: 'not-the-key' });
  await seedUsers(system.em(), [8_700_000], { isClient: true });
  const error = await t.throwsAsync(runSync(system), { instanceOf: BillingSyncError });
  t.is(error?.reason, 'refused');
  t.regex(error?.message ?? '', /401/);
  t.is(await failures(system, 'error'), 1);
});
