import test from 'ava';
import { expireLapsedSubscriptions } from '../src/billing/expire-subscriptions.ts';
import { invoiceKey } from '../src/billing/invoice-payload.ts';
import { recordStarPayment } from '../src/billing/star-payments.ts';
import { Notification, Subscription } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import {
  billingRowCounts,
  billingTestSystem,
  eventKinds,
  payloadFor,
  runSync,
  seedPlan,
} from './helpers/billing-sync.ts';
import { TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { seedSubscription, seedUsers } from './helpers/seed.ts';
import { waitFor } from './helpers/wait-for.ts';

/** billing.sync ends Stars subscriptions whose renewal never came (src/billing/expire-subscriptions.ts). */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

test.serial(
  'lapsed Stars subscriptions expire after the grace: "renewal failed" when still renewing, "ended" when cancelled',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const [renewing, cancelled, inGrace, external] = await seedUsers(em, [7601, 7602, 7603, 7604], {
      isClient: true,
    });
    const now = Date.now();
    const lapsed = new Date(now - 2 * HOUR);
    const renewingRow = seedSubscription(em, renewing!, { currentPeriodEnd: lapsed });
    seedSubscription(em, cancelled!, { status: 'cancelled', renews: false, currentPeriodEnd: lapsed });
    seedSubscription(em, inGrace!, { currentPeriodEnd: new Date(now - 30 * 60_000) });
    seedSubscription(em, external!, { provider: 'http', currency: 'EUR', currentPeriodEnd: lapsed });
    await em.flush();

    const summary = await runSync(s);
    t.is(summary.expired, 2);
    const check = s.em();
    const status = async (user: typeof renewing) =>
      (await check.findOneOrFail(Subscription, { userId: user!.id }, { refresh: true })).status;
    t.is(await status(renewing), 'expired');
    t.is(await status(cancelled), 'expired');
    t.is(await status(inGrace), 'active', 'within the hour Telegram may still be renewing it');
    t.is(await status(external), 'active', 'the external service owns its own subscriptions');
    const messages = await check.find(Notification, {}, { orderBy: { chatId: 'asc' } });
    t.deepEqual(
      messages.map((m) => [m.chatId, m.kind]),
      [
        ['7601', 'subscription_renewalFailed'],
        ['7602', 'subscription_ended'],
      ],
    );
    t.is(messages[0]!.dedupeKey, `expired-${renewingRow.id}-${Math.floor(lapsed.getTime() / 1000)}`);
    t.regex(messages[0]!.text, /could not renew/);
    t.deepEqual(await eventKinds(check, renewing!), ['expired']);

    const counts = await billingRowCounts(s.em());
    t.is((await runSync(s)).expired, 0);
    t.deepEqual(await billingRowCounts(s.em()), counts);
  },
);

test.serial(
  'a renewal racing the expiry wins: the expiry waits for the user lock, reads again and leaves it',
  async (t) => {
    const s = await billingTestSystem(t);
    const em = s.em();
    const plan = await seedPlan(em);
    const [user] = await seedUsers(em, [7701], { isClient: true });
    const lapsedAt = Date.now() - 2 * HOUR;
    seedSubscription(em, user!, {
      planId: plan.id,
      chargeId: 'charge-1',
      currentPeriodEnd: new Date(lapsedAt),
    });
    await em.flush();

    let expiring: Promise<number> | undefined;
    await s.em().transactional(async (tx) => {
      // The renewal is being recorded (its user row locked, not yet committed)...
      const outcome = await recordStarPayment(tx, {
        tenantId: DEFAULT_TENANT_ID,
        key: invoiceKey(TEST_BOT_TOKEN),
        source: 'update',
        miniAppUrl: undefined,
        log: s.logger,
        metrics: s.metrics,
        payment: {
          chargeId: 'charge-2',
          amount: 250,
          currency: 'XTR',
          invoicePayload: payloadFor(user!, plan),
          isRecurring: true,
          isFirstRecurring: false,
          expiresAt: new Date(lapsedAt + 30 * DAY),
          paidAt: new Date(lapsedAt),
        },
      });
      t.is(outcome, 'recorded');
      // ...when the sweep picks the subscription as lapsed and waits for that lock.
      expiring = expireLapsedSubscriptions({
        orm: s.orm,
        tenantId: DEFAULT_TENANT_ID,
        now: new Date(),
        miniAppUrl: undefined,
      });
      await waitFor('the sweep to wait on the lock', async () => {
        const [row] = await s.orm.em
          .fork()
          .getConnection()
          .execute<{ waiting: string }[]>(
            "select count(*) as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
          );
        return Number(row!.waiting) > 0;
      });
    });

    t.is(await expiring, 0);
    const check = s.em();
    t.like(await check.findOneOrFail(Subscription, { userId: user!.id }), {
      status: 'active',
      chargeId: 'charge-2',
    });
    t.deepEqual(await eventKinds(check, user!), ['renewed']);
    t.deepEqual(
      (await check.find(Notification, { userId: user!.id })).map((n) => n.kind),
      ['subscription_renewed'],
    );
  },
);
