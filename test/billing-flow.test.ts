import test from 'ava';
import { invoiceKey, verifyInvoicePayload } from '../src/billing/invoice-payload.ts';
import { StarPayment, Subscription, SubscriptionEvent, TelegramUser } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import type { FakeUser } from '../src/dev/fake-telegram-payments.ts';
import { authHeader, TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/**
 * The money path end to end, as Telegram drives it: the fake Bot API sends pre_checkout_query,
 * successful_payment (first, renewals, redeliveries, out of order) and refunded_payment updates to
 * our real webhook, and the client and the coach see the result through the real API.
 */
const OWNER = 810001;
const owner = authHeader({ id: OWNER });
const SECRET = 'billing-flow-webhook-secret';
const DAY_MS = 24 * 3600_000;
let system: TestSystem;
let nextClient = 820000;

test.before(async () => {
  system = await startTestSystem({
    env: {
      TELEGRAM_ADMINS: String(OWNER),
      TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
      // The panel's metrics are recomputed by the worker as soon as a payment lands.
      METRICS_INTERVAL_MS: '1000',
    },
  });
  system.telegram.deliverUpdatesTo(`${system.baseUrl}/telegram/webhook`, SECRET);
});
test.after.always(async () => {
  await system?.stop();
});

async function json(response: Response, status: number) {
  const body = await response.json();
  if (response.status !== status)
    throw new Error(`expected ${status}, got ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

async function createPlan(fields: { title: string; priceStars: number; description?: string }) {
  const response = await system.request('/api/panel/subscription-plans', {
    method: 'POST',
    auth: owner,
    body: JSON.stringify({ description: 'Weekly plan updates and check-ins', ...fields }),
  });
  return json(response, 201) as Promise<{ id: string; title: string; priceStars: number }>;
}

/** A client who took the survey and was accepted by the coach: what the clients page lists. */
async function newClient(): Promise<FakeUser & { auth: string }> {
  const user = { id: nextClient++, first_name: 'Dana', language_code: 'en' };
  const { applicationId } = await system.submitSurvey(user.id, { first_name: user.first_name });
  await json(
    await system.request(`/api/panel/applications/${applicationId}/accept`, { method: 'POST', auth: owner }),
    200,
  );
  return { ...user, auth: authHeader({ id: user.id, first_name: user.first_name }) };
}

async function invoiceFor(client: { auth: string }, planId: string): Promise<string> {
  const response = await system.request('/api/subscriptions', {
    method: 'POST',
    auth: client.auth,
    body: JSON.stringify({ planId }),
  });
  return (await json(response, 201)).invoiceLink;
}

async function me(client: { auth: string }) {
  return json(await system.request('/api/me', { auth: client.auth }), 200);
}

function messagesTo(telegramId: number): string[] {
  return system.telegram.sentMessages.filter((m) => m.chatId === String(telegramId)).map((m) => m.text);
}

async function subscriptionOf(telegramId: number): Promise<Subscription> {
  const em = system.em();
  const user = await em.findOneOrFail(TelegramUser, {
    tenantId: DEFAULT_TENANT_ID,
    telegramId: String(telegramId),
  });
  return em.findOneOrFail(Subscription, { userId: user.id });
}

test.serial(
  'a client subscribes with Stars: plans, invoice, pre-checkout, payment, message, clients page, revenue',
  async (t) => {
    const plan = await createPlan({ title: 'Coaching Pro', priceStars: 250 });
    const client = await newClient();

    const plans = await json(await system.request('/api/subscription-plans', { auth: client.auth }), 200);
    t.like(
      plans.items.find((item: { id: string }) => item.id === plan.id),
      { title: 'Coaching Pro', priceStars: 250, periodDays: 30 },
    );

    const link = await invoiceFor(client, plan.id);
    const invoice = system.telegram.payments.invoices.find((i) => i.link === link)!;
    t.like(invoice, { currency: 'XTR', amount: 250, subscriptionPeriod: 2_592_000, title: 'Coaching Pro' });
    const target = verifyInvoicePayload(invoice.payload, invoiceKey(TEST_BOT_TOKEN));
    t.like(target, { tenantId: DEFAULT_TENANT_ID, planId: plan.id });

    const { answer, payment } = await system.telegram.payments.openInvoice(link, client);
    t.true(answer.ok, `pre-checkout answered ok (${answer.errorMessage ?? ''})`);
    await system.telegram.payments.waitForDeliveries();

    const profile = await me(client);
    t.deepEqual(profile.subscription, {
      planTitle: 'Coaching Pro',
      status: 'active',
      currentPeriodEnd: new Date(payment!.expiresAt! * 1000).toISOString(),
      renews: true,
    });
    await waitFor('payment message', () =>
      messagesTo(client.id).some((text) => text.includes('Coaching Pro')),
    );
    t.regex(messagesTo(client.id).find((text) => text.includes('Coaching Pro'))!, /active until/);

    const clients = await json(await system.request('/api/panel/clients?limit=50', { auth: owner }), 200);
    const row = clients.items.find((item: { telegramId: string }) => item.telegramId === String(client.id));
    t.like(row.subscription, { planTitle: 'Coaching Pro', status: 'active', renews: true });

    const revenue = await waitFor('revenue metrics', async () => {
      const metrics = await json(await system.request('/api/panel/metrics', { auth: owner }), 200);
      return metrics.revenue?.activeSubscribers >= 1 ? metrics.revenue : undefined;
    });
    t.like(revenue, { currency: 'XTR' });
    t.true(revenue.mrr >= 250);
    t.true(revenue.newLast30d >= 1);
  },
);

test.serial(
  'a redelivered successful_payment, even to two web processes at once, changes nothing',
  async (t) => {
    const plan = await createPlan({ title: 'Redelivery', priceStars: 100 });
    const client = await newClient();
    const { payment } = await system.telegram.payments.openInvoice(await invoiceFor(client, plan.id), client);
    await system.telegram.payments.waitForDeliveries();
    await waitFor('first message', () => messagesTo(client.id).some((text) => text.includes('Redelivery')));
    const before = await subscriptionOf(client.id);

    system.telegram.payments.deliver(payment!.update);
    await system.telegram.payments.waitForDeliveries();
    const second = await system.startWebProcess();
    const post = (base: string) =>
      fetch(`${base}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify(payment!.update),
      });
    const answers = await Promise.all([post(system.baseUrl), post(second.baseUrl), post(system.baseUrl)]);
    t.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200],
    );

    const em = system.em();
    t.is(await em.count(StarPayment, { chargeId: payment!.chargeId }), 1);
    t.is(await em.count(SubscriptionEvent, { userId: before.userId }), 1);
    const after = await subscriptionOf(client.id);
    t.deepEqual(after.currentPeriodEnd, before.currentPeriodEnd);
    await new Promise((resolve) => setTimeout(resolve, 300));
    t.is(messagesTo(client.id).filter((text) => text.includes('Redelivery')).length, 1, 'one message');
  },
);

test.serial('renewals extend the period by 30 days, also when they arrive out of order', async (t) => {
  const plan = await createPlan({ title: 'Renewals', priceStars: 300 });
  const client = await newClient();
  const first = await system.telegram.payments.openInvoice(await invoiceFor(client, plan.id), client);
  await system.telegram.payments.waitForDeliveries();
  const start = (await subscriptionOf(client.id)).currentPeriodEnd!.getTime();

  const renewal = system.telegram.payments.renew(first.payment!.chargeId)!;
  await system.telegram.payments.waitForDeliveries();
  t.is((await subscriptionOf(client.id)).currentPeriodEnd!.getTime(), start + 30 * DAY_MS);
  await waitFor('renewal message', () => messagesTo(client.id).some((text) => /renewed/.test(text)));

  const second = system.telegram.payments.renew(renewal.chargeId, { deliver: false })!;
  const third = system.telegram.payments.renew(second.chargeId, { deliver: false })!;
  system.telegram.payments.deliver(third.update);
  system.telegram.payments.deliver(second.update);
  await system.telegram.payments.waitForDeliveries();
  const after = await subscriptionOf(client.id);
  t.is(after.currentPeriodEnd!.getTime(), start + 90 * DAY_MS);
  t.is(after.chargeId, third.chargeId, 'the newest payment pays the current period');
  t.like(await me(client), { subscription: { status: 'active', renews: true } });
});

test.serial(
  'a refund from the panel ends the subscription; Telegram’s refunded_payment then changes nothing',
  async (t) => {
    const plan = await createPlan({ title: 'Refunds', priceStars: 150 });
    const client = await newClient();
    const { payment } = await system.telegram.payments.openInvoice(await invoiceFor(client, plan.id), client);
    await system.telegram.payments.waitForDeliveries();

    const refund = await system.request(
      `/api/panel/payments/${encodeURIComponent(payment!.chargeId)}/refund`,
      {
        method: 'POST',
        auth: owner,
      },
    );
    t.is(refund.status, 200, await refund.clone().text());
    await system.telegram.payments.waitForDeliveries();
    t.like(await me(client), { subscription: { planTitle: 'Refunds', status: 'refunded', renews: false } });
    const refunded = await system.em().findOneOrFail(StarPayment, { chargeId: payment!.chargeId });
    t.truthy(refunded.refundedAt);
    await waitFor('refund message', () => messagesTo(client.id).some((text) => /refunded/.test(text)));
    t.is(messagesTo(client.id).filter((text) => /refunded/.test(text)).length, 1);
    t.is(system.telegram.payments.renew(payment!.chargeId), undefined, 'Telegram no longer renews it');

    const again = await system.request(
      `/api/panel/payments/${encodeURIComponent(payment!.chargeId)}/refund`,
      {
        method: 'POST',
        auth: owner,
      },
    );
    t.is(again.status, 409);
  },
);

test.serial(
  'a refund made by Telegram support arrives as refunded_payment and ends the subscription',
  async (t) => {
    const plan = await createPlan({ title: 'Support refund', priceStars: 120 });
    const client = await newClient();
    const { payment } = await system.telegram.payments.openInvoice(await invoiceFor(client, plan.id), client);
    await system.telegram.payments.waitForDeliveries();
    system.telegram.payments.refundFromTelegram(payment!.chargeId);
    await system.telegram.payments.waitForDeliveries();
    t.like(await me(client), { subscription: { status: 'refunded', renews: false } });
  },
);

test.serial(
  'pre-checkout says no, readably, to an archived plan, a changed price, a forged payload and a second subscription',
  async (t) => {
    const plan = await createPlan({ title: 'Checks', priceStars: 200 });
    const client = await newClient();
    const link = await invoiceFor(client, plan.id);

    const tampered = await system.telegram.payments.openInvoice(link, client, { totalAmount: 1 });
    t.false(tampered.answer.ok);
    t.regex(tampered.answer.errorMessage!, /price/i);

    const forged = await system.telegram.payments.openInvoice(link, client, {
      payload: `s1.${'A'.repeat(22)}.${'B'.repeat(22)}.${'C'.repeat(22)}.${'D'.repeat(22)}`,
    });
    t.false(forged.answer.ok);
    t.regex(forged.answer.errorMessage!, /not valid/);

    const stranger = { id: nextClient++, first_name: 'Eve' };
    const stolen = await system.telegram.payments.openInvoice(link, stranger);
    t.false(stolen.answer.ok, 'an invoice made for one user cannot be paid as another');

    const archived = await system.request(`/api/panel/subscription-plans/${plan.id}`, {
      method: 'PATCH',
      auth: owner,
      body: JSON.stringify({ status: 'archived' }),
    });
    t.is(archived.status, 200);
    const late = await system.telegram.payments.openInvoice(link, client);
    t.false(late.answer.ok);
    t.regex(late.answer.errorMessage!, /no longer available/);

    const other = await createPlan({ title: 'Checks 2', priceStars: 90 });
    const paid = await system.telegram.payments.openInvoice(await invoiceFor(client, other.id), client);
    t.true(paid.answer.ok);
    await system.telegram.payments.waitForDeliveries();
    const twice = await system.request('/api/subscriptions', {
      method: 'POST',
      auth: client.auth,
      body: JSON.stringify({ planId: other.id }),
    });
    t.is(twice.status, 409);
    t.is(await system.em().count(StarPayment, { userId: (await subscriptionOf(client.id)).userId }), 1);
  },
);
