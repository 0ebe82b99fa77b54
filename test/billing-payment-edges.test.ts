import test from 'ava';
import { invoiceKey, signInvoicePayload } from '../src/billing/invoice-payload.ts';
import { recordStarPayment, type StarPaymentReport } from '../src/billing/star-payments.ts';
import { StarPayment, Subscription, type TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { authHeader, TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * The edges of the money path: two checkouts at once, renewals after a bot token change, a late
 * renewal after the coach cancelled, and the hour after a renewing period ends.
 */
const OWNER = 850001;
const owner = authHeader({ id: OWNER });
const SECRET = 'payment-edges-webhook-secret';
const DAY_MS = 24 * 3600_000;
let system: TestSystem;
let nextClient = 850100;

test.before(async () => {
  system = await startTestSystem({
    worker: false,
    env: {
      TELEGRAM_ADMINS: String(OWNER),
      TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    },
  });
  system.telegram.deliverUpdatesTo(`${system.baseUrl}/telegram/webhook`, SECRET);
});
test.after.always(async () => {
  await system?.stop();
});

async function createPlan(title: string, priceStars: number): Promise<string> {
  const response = await system.request('/api/panel/subscription-plans', {
    method: 'POST',
    auth: owner,
    body: JSON.stringify({ title, description: 'Monthly coaching', priceStars }),
  });
  if (response.status !== 201) throw new Error(`plan not created: ${await response.text()}`);
  return (await response.json()).id;
}

function invoice(telegramId: number, planId: string): Promise<Response> {
  return system.request('/api/subscriptions', {
    method: 'POST',
    auth: authHeader({ id: telegramId }),
    body: JSON.stringify({ planId }),
  });
}

async function client(): Promise<TelegramUser> {
  const [user] = await seedUsers(system.em(), [nextClient++], { isClient: true });
  return user!;
}

function record(user: TelegramUser, planId: string, key: Buffer, payment: Partial<StarPaymentReport>) {
  const paidAt = payment.paidAt ?? new Date();
  return recordStarPayment(system.em(), {
    tenantId: DEFAULT_TENANT_ID,
    key,
    source: 'sync',
    miniAppUrl: undefined,
    log: system.logger,
    metrics: system.metrics,
    payment: {
      chargeId: `edge-${Math.random().toString(36).slice(2)}`,
      amount: 100,
      currency: 'XTR',
      invoicePayload: signInvoicePayload({ tenantId: DEFAULT_TENANT_ID, planId, userId: user.id }, key),
      isRecurring: true,
      isFirstRecurring: true,
      expiresAt: new Date(paidAt.getTime() + 30 * DAY_MS),
      paidAt,
      ...payment,
    },
  });
}

test.serial(
  'two invoices paid at the same moment: one checkout is approved, the other asked to wait',
  async (t) => {
    const [cheap, dear] = [await createPlan('Edge cheap', 100), await createPlan('Edge dear', 200)];
    const user = { id: nextClient++, first_name: 'Twin' };
    const links = await Promise.all([invoice(user.id, cheap), invoice(user.id, dear)]);
    const [a, b] = await Promise.all(links.map(async (response) => (await response.json()).invoiceLink));
    const results = await Promise.all([
      system.telegram.payments.openInvoice(a, user),
      system.telegram.payments.openInvoice(b, user),
    ]);
    const approved = results.filter((result) => result.answer.ok);
    t.is(approved.length, 1, 'Telegram charges once');
    const refused = results.find((result) => !result.answer.ok)!;
    t.regex(refused.answer.errorMessage ?? '', /already in progress/);
    await system.telegram.payments.waitForDeliveries();
    t.is(system.telegram.payments.subscriptions.filter((s) => s.userId === user.id).length, 1);
  },
);

test.serial(
  'after the bot token changes, renewals of subscriptions signed with the old one are still ours',
  async (t) => {
    const planId = await createPlan('Edge rotation', 100);
    const user = await client();
    const oldKey = invoiceKey('1000000999:AAtheOldRevokedToken');
    const newKey = invoiceKey(TEST_BOT_TOKEN);
    const signedWithOld = (planFor: string) =>
      signInvoicePayload({ tenantId: DEFAULT_TENANT_ID, planId: planFor, userId: user.id }, oldKey);
    // The first payment was accepted while the old token was current.
    const payload = signedWithOld(planId);
    t.is(await record(user, planId, oldKey, { invoicePayload: payload }), 'recorded');

    // After the change: an old-key payload never paid before is not ours; the renewal of one that was, is.
    const otherPlan = await createPlan('Edge rotation 2', 150);
    t.is(await record(user, otherPlan, newKey, { invoicePayload: signedWithOld(otherPlan) }), 'foreign');
    const renewedAt = new Date(Date.now() + 30 * DAY_MS);
    t.is(
      await record(user, planId, newKey, {
        invoicePayload: payload,
        isFirstRecurring: false,
        paidAt: renewedAt,
        expiresAt: new Date(renewedAt.getTime() + 30 * DAY_MS),
      }),
      'recorded',
    );
    t.is(await system.em().count(StarPayment, { userId: user.id }), 2);
  },
);

test.serial(
  'a renewal the sync finds after the coach cancelled extends the period but stays cancelled',
  async (t) => {
    const planId = await createPlan('Edge cancel', 100);
    const user = await client();
    const key = invoiceKey(TEST_BOT_TOKEN);
    const paidAt = new Date(Date.now() - 29 * DAY_MS);
    t.is(await record(user, planId, key, { paidAt }), 'recorded');
    // As the panel's cancel leaves it (the cancel itself is tested in billing-routes).
    await system.em().nativeUpdate(Subscription, { userId: user.id }, { status: 'cancelled', renews: false });
    const renewedAt = new Date(paidAt.getTime() + 30 * DAY_MS);
    t.is(
      await record(user, planId, key, {
        isFirstRecurring: false,
        paidAt: renewedAt,
        expiresAt: new Date(renewedAt.getTime() + 30 * DAY_MS),
      }),
      'recorded',
    );
    const row = await system.em().findOneOrFail(Subscription, { userId: user.id });
    t.like(row, { status: 'cancelled', renews: false });
    t.is(row.currentPeriodEnd!.getTime(), renewedAt.getTime() + 30 * DAY_MS);
  },
);

test.serial(
  'no new invoice in the hour after a renewing period ends: Telegram’s renewal may be on its way',
  async (t) => {
    const planId = await createPlan('Edge grace', 100);
    const user = await client();
    const paidAt = new Date(Date.now() - 30 * DAY_MS - 10 * 60_000);
    t.is(await record(user, planId, invoiceKey(TEST_BOT_TOKEN), { paidAt }), 'recorded');
    const during = await invoice(Number(user.telegramId), planId);
    t.is(during.status, 409);
    t.is((await during.json()).error.code, 'already_subscribed');

    await system
      .em()
      .nativeUpdate(
        Subscription,
        { userId: user.id },
        { currentPeriodEnd: new Date(Date.now() - 61 * 60_000) },
      );
    t.is(
      (await invoice(Number(user.telegramId), planId)).status,
      201,
      'after the grace the client can subscribe again',
    );
  },
);
