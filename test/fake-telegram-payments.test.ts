import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { Telegram } from 'telegraf';
import type { BotUpdate } from '../src/dev/bot-api-request.ts';
import { startFakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import type { FakeUser } from '../src/dev/fake-telegram-payments.ts';
import { waitFor } from './helpers/wait-for.ts';

// The fake Bot API's Stars payments and update delivery, driven the way our bot drives them: telegraf's
// raw callApi against the fake, and a small HTTP receiver standing in for the bot's webhook.

const TOKEN = '1000000002:AAPaymentsFakeTestToken';
const PERIOD = 2_592_000;
const ALICE: FakeUser = { id: 7001, first_name: 'Alice', language_code: 'en' };
const BOB: FakeUser = { id: 7002, first_name: 'Bob' };

type Received = { update: BotUpdate; secret: string | undefined };
// biome-ignore lint/suspicious/noExplicitAny: payment methods are newer than telegraf's typings
type RawCall = (method: string, payload?: object) => Promise<any>;
/** What the bot does with an update before answering the webhook request. */
type Handler = (update: BotUpdate) => Promise<void> | void;

async function setup(t: ExecutionContext, handler: Handler = () => {}) {
  const fake = await startFakeTelegramBotApi({ token: TOKEN });
  const telegram = new Telegram(TOKEN, { apiRoot: `${fake.apiRoot}/`, webhookReply: false });
  const raw = telegram.callApi.bind(telegram) as unknown as RawCall;
  const call: RawCall = (method, payload = {}) => raw(method, payload);
  const received: Received[] = [];
  const statuses: number[] = []; // the receiver's next answers; 200 when empty
  const receiver = createServer(async (req, res) => {
    const update = JSON.parse(await body(req)) as BotUpdate;
    received.push({ update, secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined });
    const status = statuses.shift() ?? 200;
    if (status === 200) await handler(update);
    res.writeHead(status).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/telegram/webhook`;
  t.teardown(async () => {
    await fake.close();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });
  /** Registers a public webhook, as the web process does, and routes it to the local receiver. */
  const useWebhook = async (secret = 'whsec-1') => {
    await call('setWebhook', { url: 'https://coach.example/telegram/webhook', secret_token: secret });
    fake.deliverUpdatesTo(url);
  };
  return { fake, call, received, statuses, url, useWebhook, updates: () => received.map((r) => r.update) };
}

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

const subscriptionInvoice = (overrides: object = {}) => ({
  title: 'Coaching',
  description: 'Monthly coaching plan',
  payload: 'plan:pro',
  currency: 'XTR',
  prices: [{ label: 'Coaching', amount: 250 }],
  subscription_period: PERIOD,
  ...overrides,
});

/** Telegram's error answer, as telegraf surfaces it. */
async function rejection(t: ExecutionContext, promise: Promise<unknown>) {
  const error = await t.throwsAsync(promise);
  return (error as unknown as { response: { ok: boolean; error_code: number; description: string } })
    .response;
}

const now = () => Math.floor(Date.now() / 1000);

test('createInvoiceLink returns a t.me/$ link and remembers the invoice', async (t) => {
  const { fake, call } = await setup(t);
  const link = await call('createInvoiceLink', subscriptionInvoice());
  t.regex(link, /^https:\/\/t\.me\/\$[\w-]+$/);
  const remembered = {
    link,
    title: 'Coaching',
    payload: 'plan:pro',
    amount: 250,
    subscriptionPeriod: PERIOD,
  };
  t.like(fake.payments.invoices, [remembered]);

  // Form bodies carry prices as JSON text, like reply_markup; without a period it is a one-off invoice.
  const prices = JSON.stringify([{ label: 'Pack', amount: 5 }]);
  const form = new URLSearchParams({
    title: 'Pack',
    description: 'One-off',
    payload: 'pack',
    currency: 'XTR',
    prices,
  });
  const res = await fetch(`${fake.apiRoot}/bot${TOKEN}/createinvoicelink`, { method: 'POST', body: form });
  t.like(await res.json(), { ok: true });
  t.like(fake.payments.invoices[1], { amount: 5, payload: 'pack' });
  t.false('subscriptionPeriod' in fake.payments.invoices[1]!);
});

test('createInvoiceLink refuses what Telegram refuses, with its texts', async (t) => {
  const { call } = await setup(t);
  const price = (...amounts: number[]) => ({ prices: amounts.map((amount) => ({ label: 'a', amount })) });
  const cases: Array<[string, object, string]> = [
    ['a period other than 30 days', { subscription_period: 86_400 }, 'SUBSCRIPTION_PERIOD_INVALID'],
    ['two prices in Stars', price(1, 2), 'STARS_INVOICE_INVALID'],
    ['a subscription in USD', { currency: 'USD', provider_token: 'tok' }, 'SUBSCRIPTION_PERIOD_INVALID'],
    ['a payload over 128 bytes', { payload: 'é'.repeat(65) }, 'INVOICE_PAYLOAD_INVALID'],
    ['a subscription over 10000 Stars', price(10_001), 'SUBSCRIPTION_AMOUNT_INVALID'],
    ['a zero price', price(0), 'total price must be positive'],
    ['a fractional price', price(1.5), "can't parse prices JSON object"],
    ['a provider token with Stars', { provider_token: 'tok' }, 'PAYMENT_PROVIDER_INVALID'],
    ['no title', { title: '' }, 'parameter "title" is required'],
    ['a 33-character title', { title: 'x'.repeat(33) }, 'MEDIA_INVALID'],
  ];
  for (const [what, overrides, description] of cases) {
    const response = await rejection(t, call('createInvoiceLink', subscriptionInvoice(overrides)));
    t.deepEqual(response, { ok: false, error_code: 400, description: `Bad Request: ${description}` }, what);
  }
  t.truthy(await call('createInvoiceLink', subscriptionInvoice(price(10_000))));
});

test('failNext also fails the payment methods', async (t) => {
  const { fake, call } = await setup(t);
  fake.failNext(1, 'server_error', { method: 'createInvoiceLink' });
  t.like(await rejection(t, call('createInvoiceLink', subscriptionInvoice())), { error_code: 500 });
  t.truthy(await call('createInvoiceLink', subscriptionInvoice()));
});

test('an approved pre-checkout query is charged and a successful_payment is delivered with the secret', async (t) => {
  const ctx = await setup(t, async (update) => {
    const query = update.pre_checkout_query as { id: string } | undefined;
    if (query) await ctx.call('answerPreCheckoutQuery', { pre_checkout_query_id: query.id, ok: true });
  });
  const { fake, call, received, useWebhook } = ctx;
  await useWebhook('whsec-1');
  const link = await call('createInvoiceLink', subscriptionInvoice());

  const { answer, payment } = await fake.payments.openInvoice(link, ALICE);
  t.deepEqual(answer, { ok: true });
  t.truthy(payment);
  await fake.payments.waitForDeliveries();

  t.deepEqual(
    received.map((r) => r.secret),
    ['whsec-1', 'whsec-1'],
  );
  const [query, paid] = received.map((r) => r.update);
  t.like(query, {
    pre_checkout_query: { from: { id: 7001, is_bot: false, first_name: 'Alice', language_code: 'en' } },
  });
  t.like(query?.pre_checkout_query, { currency: 'XTR', total_amount: 250, invoice_payload: 'plan:pro' });
  t.is(paid?.update_id, query!.update_id + 1);
  const message = paid?.message as Record<string, unknown>;
  t.like(message, { chat: { id: 7001, type: 'private' }, from: { id: 7001 } });
  const successful = message.successful_payment as Record<string, number>;
  t.like(successful, {
    currency: 'XTR',
    total_amount: 250,
    invoice_payload: 'plan:pro',
    telegram_payment_charge_id: payment!.chargeId,
    provider_payment_charge_id: '',
    is_recurring: true,
    is_first_recurring: true,
  });
  t.true(Math.abs(successful.subscription_expiration_date! - (now() + PERIOD)) <= 2);
  t.is(successful.subscription_expiration_date, payment!.expiresAt);
  t.like(fake.payments.subscriptions, [{ chargeIds: [payment!.chargeId], userId: 7001, renews: true }]);

  // The query was answered: a second answer is refused like an expired one.
  const queryId = (query!.pre_checkout_query as { id: string }).id;
  const again = await rejection(
    t,
    call('answerPreCheckoutQuery', { pre_checkout_query_id: queryId, ok: true }),
  );
  t.is(
    again.description,
    'Bad Request: query is too old and response timeout expired or query ID is invalid',
  );
});

test('a refused pre-checkout query charges nothing; an unanswered one times out', async (t) => {
  const ctx = await setup(t, async (update) => {
    const query = update.pre_checkout_query as { id: string; invoice_payload: string } | undefined;
    if (query?.invoice_payload === 'forged') {
      // ok arrives as text from form-encoding clients
      await ctx.call('answerPreCheckoutQuery', {
        pre_checkout_query_id: query.id,
        ok: 'false',
        error_message: 'No',
      });
    }
  });
  const { fake, call, received, useWebhook } = ctx;
  await useWebhook();
  const link = await call('createInvoiceLink', subscriptionInvoice());

  const refused = await fake.payments.openInvoice(link, BOB, { payload: 'forged', totalAmount: 1 });
  t.deepEqual(refused, { answer: { ok: false, errorMessage: 'No' } });
  t.like(received[0]?.update.pre_checkout_query, { total_amount: 1, invoice_payload: 'forged' });
  t.like(fake.payments.preCheckoutAnswers, [{ ok: false, errorMessage: 'No' }]);

  const ignored = await fake.payments.openInvoice(link, BOB, { timeoutMs: 100 });
  t.deepEqual(ignored, { answer: { ok: false, errorMessage: 'timeout' } });
  // Delivered anyway, only too late to be answered.
  const { update } = await waitFor('the second query', () => received[1], 2_000, 5);
  const lateId = (update.pre_checkout_query as { id: string }).id;
  const late = await rejection(
    t,
    call('answerPreCheckoutQuery', { pre_checkout_query_id: lateId, ok: true }),
  );
  t.is(late.error_code, 400);

  const noReason = await rejection(
    t,
    call('answerPreCheckoutQuery', { pre_checkout_query_id: lateId, ok: false }),
  );
  t.is(noReason.description, 'Bad Request: parameter "error_message" is required');
  await fake.payments.waitForDeliveries();
  t.is(received.length, 2, 'no successful_payment');
  t.deepEqual(fake.payments.subscriptions, []);
});

test('kinds of update the bot did not ask for (allowed_updates) are never sent', async (t) => {
  const { fake, call, received, url } = await setup(t);
  await call('setWebhook', { url: 'https://coach.example/hook', allowed_updates: ['message'] });
  fake.deliverUpdatesTo(url);
  const link = await call('createInvoiceLink', subscriptionInvoice());
  const timedOut = { answer: { ok: false, errorMessage: 'timeout' } };
  t.deepEqual(await fake.payments.openInvoice(link, ALICE, { timeoutMs: 50 }), timedOut);
  t.is(received.length, 0);

  // A later list replaces it; form-encoding clients send it as JSON text.
  const allowed = JSON.stringify(['message', 'pre_checkout_query']);
  await call('setWebhook', { url: 'https://coach.example/hook', allowed_updates: allowed });
  await fake.payments.openInvoice(link, ALICE, { timeoutMs: 50 });
  await fake.payments.waitForDeliveries();
  t.truthy(received[0]?.update.pre_checkout_query);
});

test('a webhook that fails is redelivered the same update, in order, until it accepts', async (t) => {
  const { fake, received, statuses, url, call } = await setup(t);
  await call('setWebhook', { url: 'https://coach.example/hook', secret_token: 'whsec-2' });
  fake.deliverUpdatesTo('http://127.0.0.1:9/unreachable'); // nothing listens on the discard port
  const [charge] = fake.payments.recordPayments([{ user: ALICE, payload: 'p', amount: 5 }]);
  fake.payments.refundFromTelegram(charge!);
  await waitFor('a failed attempt', () => fake.deliveries.length > 0, 2_000, 5);
  t.is(fake.deliveries[0]?.status, 'network_error');

  statuses.push(500, 502);
  fake.deliverUpdatesTo(url);
  const second = fake.payments.recordPayments([{ user: BOB, payload: 'q', amount: 7 }]);
  fake.payments.refundFromTelegram(second[0]!);
  await fake.payments.waitForDeliveries();

  const first = received[0]!.update.update_id;
  t.deepEqual(
    received.map((r) => r.update.update_id),
    [first, first, first, first + 1],
  );
  t.deepEqual(
    fake.deliveries.slice(-4).map((d) => d.status),
    [500, 502, 200, 200],
  );
  t.like(received[3]?.update.message, { refunded_payment: { total_amount: 7, invoice_payload: 'q' } });
  t.true(received.every((r) => r.secret === 'whsec-2'));
});

test('getUpdates hands out queued updates and forgets those below the offset', async (t) => {
  const { fake, call } = await setup(t);
  const charges = fake.payments.recordPayments(
    [1, 2, 3].map((amount) => ({ user: ALICE, payload: `p${amount}`, amount, subscriptionPeriod: PERIOD })),
  );
  for (const charge of charges) fake.payments.refundFromTelegram(charge);

  const all: BotUpdate[] = await call('getUpdates', { timeout: 0 });
  t.is(all.length, 3);
  const [a, b, c] = all.map((u) => u.update_id) as [number, number, number];
  t.deepEqual([b - a, c - b], [1, 1]);
  t.deepEqual(
    (await call('getUpdates', { offset: b, timeout: 0 })).map((u: BotUpdate) => u.update_id),
    [b, c],
  );
  t.deepEqual(await call('getUpdates', { offset: c + 1, timeout: 0 }), []);
  await fake.payments.waitForDeliveries(); // all confirmed

  // A long poll answers as soon as an update comes, not at its timeout.
  const [live] = fake.payments.recordPayments([
    { user: BOB, payload: 'sub', amount: 9, subscriptionPeriod: PERIOD },
  ]);
  const started = Date.now();
  const polled: Promise<BotUpdate[]> = call('getUpdates', { offset: c + 1, timeout: 30 });
  setTimeout(() => fake.payments.renew(live!), 50);
  const [renewal] = await polled;
  t.truthy(renewal?.message);
  t.true(Date.now() - started < 900);

  // An update delivered late (below the bot's offset already) still reaches a polling bot, once.
  const held = fake.payments.renew(live!, { deliver: false })!;
  fake.payments.refundFromTelegram(live!);
  const newer: BotUpdate[] = await call('getUpdates', { offset: renewal!.update_id + 1, timeout: 0 });
  t.is(newer.length, 1);
  t.true(newer[0]!.update_id > held.update.update_id);
  fake.payments.deliver(held.update);
  const next = newer.at(-1)!.update_id + 1;
  t.deepEqual(await call('getUpdates', { offset: next, timeout: 0 }), [held.update]);
  t.deepEqual(await call('getUpdates', { offset: next, timeout: 0 }), []);

  await call('setWebhook', { url: 'https://coach.example/hook' });
  t.like(await rejection(t, call('getUpdates')), { error_code: 409 });
});

test('renew charges again and extends the subscription by 30 days from the previous expiry', async (t) => {
  const { fake, call, useWebhook, updates } = await setup(t);
  await useWebhook();
  const date = now() - 10 * 86_400;
  const [first] = fake.payments.recordPayments([
    { user: ALICE, payload: 'plan:pro', amount: 250, subscriptionPeriod: PERIOD, date },
  ]);
  const renewal = fake.payments.renew(first!)!;
  t.is(renewal.expiresAt, date + 2 * PERIOD);
  t.not(renewal.chargeId, first);
  await fake.payments.waitForDeliveries();
  t.deepEqual(updates(), [renewal.update]);
  t.like(renewal.update.message, {
    successful_payment: {
      telegram_payment_charge_id: renewal.chargeId,
      subscription_expiration_date: date + 2 * PERIOD,
      is_recurring: true,
      is_first_recurring: false,
    },
  });

  // Renewing through any payment of it; an undelivered renewal is recorded but not sent.
  const third = fake.payments.renew(renewal.chargeId, { deliver: false })!;
  t.is(third.expiresAt, date + 3 * PERIOD);
  await fake.payments.waitForDeliveries();
  t.is(updates().length, 1);
  fake.payments.deliver(third.update);
  await fake.payments.waitForDeliveries();
  t.deepEqual(updates().at(-1), third.update);

  const { transactions } = await call('getStarTransactions');
  t.deepEqual(
    transactions.map((tx: { id: string }) => tx.id),
    [first, renewal.chargeId, third.chargeId],
  );
  t.like(transactions[1], { amount: 250, source: { type: 'user', subscription_period: PERIOD } });
  t.like(fake.payments.subscriptions, [
    { chargeIds: [first, renewal.chargeId, third.chargeId], renews: true },
  ]);
});

test('a canceled subscription does not renew until it is re-enabled', async (t) => {
  const { fake, call } = await setup(t);
  const [charge] = fake.payments.recordPayments([
    { user: ALICE, payload: 'p', amount: 3, subscriptionPeriod: PERIOD },
  ]);
  const edit = (isCanceled: unknown, userId = ALICE.id, chargeId = charge) =>
    call('editUserStarSubscription', {
      user_id: userId,
      telegram_payment_charge_id: chargeId,
      is_canceled: isCanceled,
    });

  t.true(await edit(true));
  t.like(fake.payments.subscriptions, [{ canceled: true, renews: false }]);
  t.is(fake.payments.renew(charge!), undefined);
  t.true(await edit('false'));
  t.truthy(fake.payments.renew(charge!));

  t.like(await rejection(t, edit(true, BOB.id)), { description: 'Bad Request: CHARGE_ID_INVALID' });
  t.like(await rejection(t, edit(true, ALICE.id, 'stxUnknown')), {
    description: 'Bad Request: CHARGE_ID_INVALID',
  });
  t.like(await rejection(t, edit(true, 0)), { description: 'Bad Request: invalid user_id specified' });
});

test('a refund is an outgoing transaction with the charge id, a refunded_payment update, and ends renewals', async (t) => {
  const { fake, call, useWebhook, updates } = await setup(t);
  await useWebhook();
  const [charge] = fake.payments.recordPayments([
    { user: ALICE, payload: 'plan:pro', amount: 250, subscriptionPeriod: PERIOD },
  ]);
  const refund = (userId: number) =>
    call('refundStarPayment', { user_id: userId, telegram_payment_charge_id: charge });

  t.like(await rejection(t, refund(BOB.id)), { description: 'Bad Request: CHARGE_ID_INVALID' });
  t.true(await refund(ALICE.id));
  t.like(await rejection(t, refund(ALICE.id)), { description: 'Bad Request: CHARGE_ALREADY_REFUNDED' });
  t.throws(() => fake.payments.refundFromTelegram(charge!), { message: /CHARGE_ALREADY_REFUNDED/ });

  const { transactions } = await call('getStarTransactions', { offset: 1 });
  t.like(transactions, [
    {
      id: charge,
      amount: 250,
      receiver: {
        type: 'user',
        transaction_type: 'invoice_payment',
        user: { id: 7001 },
        invoice_payload: 'plan:pro',
      },
    },
  ]);
  t.is(transactions[0].source, undefined);
  await fake.payments.waitForDeliveries();
  t.like(updates(), [
    {
      message: {
        chat: { id: 7001, type: 'private' },
        refunded_payment: { currency: 'XTR', total_amount: 250, telegram_payment_charge_id: charge },
      },
    },
  ]);
  t.like(fake.payments.subscriptions, [{ refunded: true, renews: false }]);
  t.is(fake.payments.renew(charge!), undefined);
});

test('getStarTransactions pages in chronological order; limit and offset are clamped like the Bot API', async (t) => {
  const { fake, call } = await setup(t);
  const base = now() - 1_000_000;
  const started = Date.now();
  const ids = fake.payments.recordPayments(
    Array.from({ length: 10_000 }, (_, i) => ({
      user: { id: 10_000 + i, first_name: `U${i}` },
      payload: `p${i}`,
      amount: 1 + (i % 50),
      subscriptionPeriod: PERIOD,
      date: base + i,
    })),
  );
  t.true(Date.now() - started < 2_000, 'recording 10,000 subscribers is quick');
  const [older] = fake.payments.recordPayments([{ user: ALICE, payload: 'old', amount: 1, date: base - 5 }]);

  const page = async (params: object) =>
    (await call('getStarTransactions', params)).transactions.map((tx: { id: string }) => tx.id);
  t.deepEqual(await page({}), [older, ...ids.slice(0, 99)]);
  t.deepEqual(await page({ offset: 9_950, limit: 100 }), ids.slice(9_949));
  t.is((await page({ limit: 500 })).length, 100);
  t.deepEqual(await page({ limit: 0 }), [older]);
  t.deepEqual(await page({ offset: -3, limit: 1 }), [older]);
  t.deepEqual(await page({ offset: 20_000 }), []);
  t.is(fake.calls.filter((c) => c.method === 'getStarTransactions').length, 6);
});
