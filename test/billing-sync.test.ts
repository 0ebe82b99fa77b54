import test from 'ava';
import { BillingSyncError } from '../src/billing/billing-sync-error.ts';
import { readBillingSyncState } from '../src/billing/billing-sync-state.ts';
import { invoiceKey } from '../src/billing/invoice-payload.ts';
import { syncStarTransactions } from '../src/billing/stars-sync.ts';
import { createLogger } from '../src/config/logger.ts';
import { Notification, StarPayment, Subscription } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { enqueueOnce } from '../src/queue/outbox-writer.ts';
import { createStarsApi } from '../src/telegram/stars-api.ts';
import {
  billingRowCounts,
  billingTestSystem,
  eventKinds,
  lostPayments,
  metricValue,
  runSync,
  seedPlan,
} from './helpers/billing-sync.ts';
import { TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { seedSubscription, seedUsers } from './helpers/seed.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * billing.sync with the Stars provider: what the bot missed (lost payment and refund updates) is
 * found in Telegram's transaction list, once, from where the last run stopped.
 * Expiry of lapsed subscriptions: billing-expiry.test.ts.
 */

const DAY = 86_400_000;

test.serial(
  'a payment whose update was lost is recovered by the sync: subscription, event and client message',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const plan = await seedPlan(em);
    const [user] = await seedUsers(em, [7101], { isClient: true });
    const paidAt = Math.floor(Date.now() / 1000) - 60;
    const [chargeId] = lostPayments(s, [{ user: user!, plan, date: paidAt }]);

    const summary = await runSync(s);
    t.like(summary, {
      provider: 'stars',
      stars: { calls: 1, payments: 1, refunds: 0, offset: 1 },
      expired: 0,
    });

    const check = s.em();
    const subscription = await check.findOneOrFail(Subscription, { userId: user!.id });
    t.like(subscription, {
      provider: 'stars',
      status: 'active',
      renews: true,
      chargeId,
      price: 250,
      currency: 'XTR',
    });
    t.is(subscription.currentPeriodEnd?.getTime(), (paidAt + 2_592_000) * 1000);
    t.like(await check.findOneOrFail(StarPayment, { chargeId: chargeId! }), {
      recordedBy: 'sync',
      isFirstRecurring: true,
    });
    t.deepEqual(await eventKinds(check, user!), ['started']);
    const message = await check.findOneOrFail(Notification, { userId: user!.id });
    t.is(message.kind, 'subscription_started');
    t.is(await metricValue(s, 'stars_payments_total', { kind: 'first', source: 'sync' }), 1);
    t.is(await metricValue(s, 'billing_sync_duration_seconds', { provider: 'stars', result: 'ok' }), 1);
    const state = await readBillingSyncState(check, DEFAULT_TENANT_ID);
    t.is(state.starTransactionsOffset, 1);
    t.truthy(state.lastSuccessAt);

    const sent = await waitFor('the client is told', () =>
      s.telegram.sentMessages.find((m) => m.chatId === '7101'),
    );
    t.regex(sent.text, /Monthly coaching/);
  },
);

test.serial('a refund seen only by the sync ends the subscription and tells the client', async (t) => {
  const s = await billingTestSystem(t);
  const em = s.em();
  const plan = await seedPlan(em);
  const [user] = await seedUsers(em, [7201], { isClient: true });
  const [chargeId] = lostPayments(s, [{ user: user!, plan }]);
  await runSync(s);
  // Telegram support refunds it; the refunded_payment update never reaches the bot.
  s.telegram.payments.refundFromTelegram(chargeId!);

  const summary = await runSync(s);
  t.like(summary.stars, { calls: 1, payments: 0, refunds: 1, offset: 2 });
  const check = s.em();
  t.like(await check.findOneOrFail(Subscription, { userId: user!.id }), {
    status: 'refunded',
    renews: false,
  });
  t.truthy((await check.findOneOrFail(StarPayment, { chargeId: chargeId! })).refundedAt);
  t.deepEqual(await eventKinds(check, user!), ['started', 'refunded']);
  const kinds = (await check.find(Notification, { userId: user!.id })).map((n) => n.kind).sort();
  t.deepEqual(kinds, ['subscription_refunded', 'subscription_started']);
  t.is(await metricValue(s, 'stars_payments_total', { kind: 'refund', source: 'sync' }), 1);
});

test.serial(
  'running the sync twice changes nothing the second time, and a re-read page is a no-op',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const plan = await seedPlan(em);
    const users = await seedUsers(em, [7301, 7302, 7303], { isClient: true });
    const charges = lostPayments(
      s,
      users.map((user) => ({ user, plan })),
    );
    s.telegram.payments.refundFromTelegram(charges[1]!);
    s.telegram.payments.renew(charges[2]!, { deliver: false });

    const first = await runSync(s);
    t.like(first.stars, { payments: 4, refunds: 1, offset: 5 });
    const after = await billingRowCounts(s.em());
    t.like(after, { subscriptions: 3, payments: 4, refunds: 1 });

    const second = await runSync(s);
    t.like(second.stars, { calls: 1, payments: 0, refunds: 0, offset: 5 });
    t.deepEqual(await billingRowCounts(s.em()), after);

    // A crash after the page's effects but before its offset was stored: the page is read again.
    await s.em().getConnection().execute('update billing_sync_state set star_transactions_offset = 0');
    const reread = await runSync(s);
    t.like(reread.stars, { payments: 0, refunds: 0, offset: 5 });
    t.deepEqual(await billingRowCounts(s.em()), after);
    t.deepEqual(await eventKinds(s.em(), users[2]!), ['started', 'renewed']);
  },
);

test.serial('the offset advances page by page, and the next run reads only what is new', async (t) => {
  const s = await billingTestSystem(t);
  const em = s.em();
  const plan = await seedPlan(em);
  const users = await seedUsers(
    em,
    Array.from({ length: 208 }, (_, i) => 7_400_000 + i),
    { isClient: true },
  );
  lostPayments(
    s,
    users.slice(0, 205).map((user) => ({ user, plan })),
  );
  const offsetsAsked = () =>
    s.telegram.calls
      .filter((call) => call.method.toLowerCase() === 'getstartransactions')
      .map((call) => Number((call.body as { offset: number }).offset));

  const first = await runSync(s);
  t.like(first.stars, { calls: 3, payments: 205, offset: 205 });
  t.deepEqual(offsetsAsked(), [0, 100, 200]);

  lostPayments(
    s,
    users.slice(205).map((user) => ({ user, plan })),
  );
  const next = await runSync(s);
  t.like(next.stars, { calls: 1, payments: 3, offset: 208 });
  t.deepEqual(offsetsAsked(), [0, 100, 200, 205]);
  t.is(await s.em().count(Subscription, { status: 'active' }), 208);
});

test.serial(
  'a backlog longer than one run stops at a page boundary with more to read; the next run goes on',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const plan = await seedPlan(em);
    const users = await seedUsers(
      em,
      Array.from({ length: 150 }, (_, i) => 7_450_000 + i),
      { isClient: true },
    );
    lostPayments(
      s,
      users.map((user) => ({ user, plan })),
    );
    const input = {
      orm: s.orm,
      tenantId: DEFAULT_TENANT_ID,
      api: createStarsApi({ botToken: TEST_BOT_TOKEN, apiRoot: s.telegram.apiRoot, timeoutMs: 5_000 }),
      invoiceKey: invoiceKey(TEST_BOT_TOKEN),
      miniAppUrl: undefined,
      metrics: s.metrics,
      log: createLogger('silent'),
      signal: new AbortController().signal,
    };
    // Its budget is already spent: one full page, then it stops.
    t.like(await syncStarTransactions({ ...input, stopAfter: 0 }), {
      calls: 1,
      payments: 100,
      offset: 100,
      more: true,
    });
    t.like(await syncStarTransactions(input), { calls: 1, payments: 50, offset: 150, more: false });
  },
);

test.serial(
  'Telegram failing the page: the run fails as provider_down, is recorded, and the next run catches up',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const plan = await seedPlan(em);
    const [user] = await seedUsers(em, [7501], { isClient: true });
    lostPayments(s, [{ user: user!, plan }]);
    s.telegram.failNext(1, 'server_error', { method: 'getStarTransactions' });

    const error = await t.throwsAsync(runSync(s), { instanceOf: BillingSyncError });
    t.is(error?.reason, 'provider_down');
    t.is(error?.outsideService, 'telegram');
    t.is(
      await metricValue(s, 'billing_sync_failures_total', { provider: 'stars', reason: 'provider_down' }),
      1,
    );
    const failed = await readBillingSyncState(s.em(), DEFAULT_TENANT_ID);
    t.truthy(failed.lastFailureAt);
    t.regex(failed.lastError ?? '', /^provider_down: Telegram 5\d\d/);
    t.is(failed.starTransactionsOffset, 0);

    t.like((await runSync(s)).stars, { payments: 1, offset: 1 });
  },
);

test.serial(
  'through the worker: a billing.sync job recovers a lost payment and the client gets the message',
  async (t) => {
    const s = await startTestSystem({ env: { JOB_BACKOFF_BASE_MS: '100' } });
    t.teardown(() => s.stop());
    const em = s.em();
    const plan = await seedPlan(em);
    const [user] = await seedUsers(em, [7801], { isClient: true });
    lostPayments(s, [{ user: user!, plan }]);
    s.telegram.failNext(1, 'server_error', { method: 'getStarTransactions' });

    await s
      .em()
      .transactional((tx) =>
        enqueueOnce(tx, 'billing.sync', [
          { tenantId: DEFAULT_TENANT_ID, trigger: 'panel', requestKey: 'test-7801' },
        ]),
      );
    const subscription = await waitFor('the sync to record the payment', () =>
      s.em().findOne(Subscription, { userId: user!.id, status: 'active' }),
    );
    t.is(subscription.provider, 'stars');
    const sent = await waitFor('the client is told', () =>
      s.telegram.sentMessages.find((m) => m.chatId === '7801'),
    );
    t.regex(sent.text, /Monthly coaching/);
    t.true(
      (await metricValue(s, 'billing_sync_failures_total', { provider: 'stars', reason: 'provider_down' })) >=
        1,
    );
    await waitFor(
      'the run recorded as a success',
      async () => (await readBillingSyncState(s.em(), DEFAULT_TENANT_ID)).lastSuccessAt,
    );
  },
);

test.serial(
  'subscriptions_active counts paid-up subscriptions per tenant when /metrics is scraped',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const users = await seedUsers(em, [7901, 7902, 7903, 7904, 7905]);
    const past = new Date(Date.now() - DAY);
    seedSubscription(em, users[0]!);
    seedSubscription(em, users[1]!, { status: 'cancelled', renews: false });
    seedSubscription(em, users[2]!, { status: 'cancelled', renews: false, currentPeriodEnd: past });
    seedSubscription(em, users[3]!, { status: 'expired', renews: false, currentPeriodEnd: past });
    seedSubscription(em, users[4]!, { provider: 'http', currency: 'EUR' });
    await em.flush();

    const body = await (await s.request('/metrics')).text();
    t.regex(body, new RegExp(`^subscriptions_active\\{tenant="${DEFAULT_TENANT_ID}"\\} 3$`, 'm'));
  },
);
