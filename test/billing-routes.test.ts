import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { createSubscriptionInvoice } from '../src/billing/billing-actions.ts';
import { invoiceKey, signInvoicePayload, verifyInvoicePayload } from '../src/billing/invoice-payload.ts';
import { recordStarPayment } from '../src/billing/star-payments.ts';
import * as entities from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { INVOICES_PER_HOUR } from '../src/http/routes/billing-routes.ts';
import { expectError } from './helpers/expect-error.ts';
import { authHeader, TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { seedSubscription, seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * Plans, invoices, refunds and cancellations through the HTTP API, against the fake Bot API's
 * Stars payments: what a coach, their staff, a client and an attacker each get, what is written
 * (and audited), and that nothing is half-written when Telegram fails.
 */
const { AuditLog, Notification, Outbox, StarPayment, Subscription, SubscriptionEvent, SubscriptionPlan } =
  entities;
const OWNER = 810_001;
const TRAINER = 810_002;
const SUPPORT = 810_003;
const KEY = invoiceKey(TEST_BOT_TOKEN);
const PLANS = '/api/panel/subscription-plans';
let nextClient = 820_000;
/** Tests run concurrently: every client is a new Telegram id. */
const freshClient = () => nextClient++;

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ worker: false, env: { TELEGRAM_ADMINS: String(OWNER) } });
  await seedUsers(system.em(), [TRAINER], { role: 'trainer' });
  await seedUsers(system.em(), [SUPPORT], { role: 'support' });
});
test.after.always(async () => {
  await system?.stop();
});

function api(path: string, as: number | null, init: { method?: string; body?: unknown } = {}) {
  return system.request(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    ...(as === null ? {} : { auth: authHeader({ id: as }) }),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}
const post = (path: string, as: number | null, body?: unknown) => api(path, as, { method: 'POST', body });
const patch = (path: string, body: unknown) => api(path, OWNER, { method: 'PATCH', body });
const refund = (chargeId: string) => post(`/api/panel/payments/${chargeId}/refund`, OWNER);
const cancel = (telegramId: number | string) =>
  post(`/api/panel/clients/${telegramId}/subscription/cancel`, OWNER);
const subscribe = (as: number | null, planId: unknown) => post('/api/subscriptions', as, { planId });

/** The request is refused with this status and error code, as the JSON error contract. */
async function refused(t: ExecutionContext, request: Promise<Response>, status: number, code: string) {
  return expectError(t, await request, status, code);
}

async function createPlan(fields: Partial<{ title: string; description: string; priceStars: number }> = {}) {
  const body = { title: 'Coaching', description: 'Weekly plan updates', priceStars: 250, ...fields };
  const response = await post(PLANS, OWNER, body);
  if (response.status !== 201) throw new Error(`plan not created: ${await response.text()}`);
  return (await response.json()) as { id: string; title: string; priceStars: number; status: string };
}

const em = () => system.em();
const audits = (action: string, targetId?: string) =>
  em().find(AuditLog, { action, ...(targetId ? { targetId } : {}) });
const callsOf = (method: string) => system.telegram.calls.filter((call) => call.method === method);
const chargeCalls = (method: string, chargeId: string) =>
  callsOf(method).filter(
    (call) => (call.body as { telegram_payment_charge_id?: string }).telegram_payment_charge_id === chargeId,
  ).length;
/** Invoices asked of Telegram for this Telegram user (tests run concurrently: others' do not count). */
async function invoicesFor(telegramId: number) {
  const user = await em().findOne(entities.TelegramUser, { telegramId: String(telegramId) });
  return callsOf('createInvoiceLink').filter(
    (call) => verifyInvoicePayload((call.body as { payload?: string }).payload, KEY)?.userId === user?.id,
  ).length;
}
const errorsAt = async (stage: string) =>
  (await system.metrics.starsPaymentErrors.get()).values.find((v) => v.labels.stage === stage)?.value ?? 0;
const subscriptionOf = (userId: string) => em().findOneOrFail(Subscription, { userId });
const refundedAt = async (chargeId: string) =>
  (await em().findOneOrFail(StarPayment, { chargeId })).refundedAt ?? null;
const fakeSubscription = (chargeId: string) =>
  system.telegram.payments.subscriptions.find((s) => s.chargeIds.includes(chargeId))!;

/** A client who paid a plan in Stars: Telegram knows the charge (unless told not to); it is recorded here. */
async function payingClient(options: { knownToTelegram?: boolean } = {}) {
  const telegramId = freshClient();
  const [user] = await seedUsers(em(), [telegramId], { isClient: true });
  const plan = await createPlan({ title: `Plan ${telegramId}`, priceStars: 300 });
  const payload = signInvoicePayload({ tenantId: DEFAULT_TENANT_ID, planId: plan.id, userId: user!.id }, KEY);
  const payer = { user: { id: telegramId, first_name: 'Client' }, payload, amount: 300 };
  const chargeId =
    options.knownToTelegram === false
      ? `stx-unknown-${telegramId}`
      : system.telegram.payments.recordPayments([{ ...payer, subscriptionPeriod: 2_592_000 }])[0]!;
  const paidAt = new Date();
  const expiresAt = new Date(paidAt.getTime() + 30 * 24 * 3600_000);
  const outcome = await recordStarPayment(em(), {
    tenantId: DEFAULT_TENANT_ID,
    key: KEY,
    source: 'update',
    miniAppUrl: undefined,
    log: system.logger,
    metrics: system.metrics,
    payment: {
      ...{ chargeId, amount: 300, currency: 'XTR', invoicePayload: payload, paidAt, expiresAt },
      ...{ isRecurring: true, isFirstRecurring: true },
    },
  });
  if (outcome !== 'recorded') throw new Error(`payment not recorded: ${outcome}`);
  return { telegramId, user: user!, chargeId };
}

test('plans: the owner creates, lists, edits, archives and unarchives them, each change audited once', async (t) => {
  const plan = await createPlan({ title: 'Premium 🏋️', priceStars: 900 });
  t.like(plan, { title: 'Premium 🏋️', priceStars: 900, status: 'active', periodDays: 30 });
  t.is((await audits('plan.create', plan.id)).length, 1);
  const panelStatus = async () =>
    (await (await api(PLANS, OWNER)).json()).items.find((p: { id: string }) => p.id === plan.id)?.status;
  t.is(await panelStatus(), 'active');

  const path = `${PLANS}/${plan.id}`;
  const edited = await patch(path, { priceStars: 850, title: 'Premium' });
  t.is(edited.status, 200);
  t.like(await edited.json(), { priceStars: 850, title: 'Premium' });
  const [audit] = await audits('plan.update', plan.id);
  t.is(audit?.targetType, 'plan');
  t.deepEqual(audit?.details, {
    priceStars: { from: 900, to: 850 },
    title: { from: 'Premium 🏋️', to: 'Premium' },
  });
  // The same values again change nothing, so nothing more is audited.
  t.is((await patch(path, { priceStars: 850 })).status, 200);
  t.is((await audits('plan.update', plan.id)).length, 1);

  const onSale = async () =>
    (await (await api('/api/subscription-plans', freshClient())).json()).items.some(
      (p: { id: string }) => p.id === plan.id,
    );
  t.true(await onSale());
  t.is((await patch(path, { status: 'archived' })).status, 200);
  t.false(await onSale(), 'archived plans are not on sale');
  await refused(t, subscribe(freshClient(), plan.id), 404, 'plan_not_found');
  t.is(await panelStatus(), 'archived', 'the panel still lists it');
  t.is((await patch(path, { status: 'active' })).status, 200);
  t.true(await onSale());
  t.is((await audits('plan.update', plan.id)).length, 3);
});

test('plans: invalid input is 400 with the field named, and writes nothing', async (t) => {
  const marker = 'invalid-input-test';
  const valid = { title: marker, description: marker, priceStars: 100 };
  const invalid: [unknown, string][] = [
    [{ ...valid, title: '' }, 'title'],
    [{ ...valid, title: '   ' }, 'title'],
    [{ ...valid, title: 'x'.repeat(33) }, 'title'],
    [{ ...valid, title: 'a\u0000b' }, 'title'],
    [{ ...valid, description: 'x'.repeat(256) }, 'description'],
    [{ ...valid, priceStars: 0 }, 'priceStars'],
    [{ ...valid, priceStars: 10_001 }, 'priceStars'],
    [{ ...valid, priceStars: 1.5 }, 'priceStars'],
    [{ ...valid, priceStars: '100' }, 'priceStars'],
    [{ title: marker, priceStars: 100 }, 'description'],
    [{ ...valid, status: 'archived' }, ''],
  ];
  for (const [body, field] of invalid) {
    const error = await refused(t, post(PLANS, OWNER, body), 400, 'validation_failed');
    t.true(
      error.error.details.some((d: { path: string }) => d.path === field),
      JSON.stringify(error),
    );
  }
  const written = await em().count(SubscriptionPlan, { $or: [{ title: marker }, { description: marker }] });
  t.is(written, 0);

  const plan = await createPlan();
  const path = `${PLANS}/${plan.id}`;
  for (const body of [{}, { status: 'deleted' }, { id: randomUUID() }, { priceStars: null }]) {
    await refused(t, patch(path, body), 400, 'validation_failed');
  }
  await refused(t, patch(`${PLANS}/${randomUUID()}`, { priceStars: 5 }), 404, 'plan_not_found');
  await refused(t, patch(`${PLANS}/1`, { priceStars: 5 }), 400, 'invalid_plan_id');
  t.is((await audits('plan.update', plan.id)).length, 0);
});

test('money routes are for owners only: trainer and support 403, clients 403, strangers 401', async (t) => {
  const routes: [string, string, unknown?][] = [
    ['GET', PLANS],
    ['POST', PLANS, { title: 'X', description: 'Y', priceStars: 1 }],
    ['PATCH', `${PLANS}/${randomUUID()}`, { priceStars: 1 }],
    ['POST', `/api/panel/clients/${OWNER}/subscription/cancel`],
    ['POST', '/api/panel/payments/stx123/refund'],
    ['POST', '/api/panel/billing/sync'],
  ];
  const client = freshClient();
  for (const [method, path, body] of routes) {
    await refused(t, api(path, TRAINER, { method, body }), 403, 'permission_denied');
    await refused(t, api(path, SUPPORT, { method, body }), 403, 'permission_denied');
    await refused(t, api(path, client, { method, body }), 403, 'not_an_admin');
    await refused(t, api(path, null, { method, body }), 401, 'missing_credentials');
  }
  const callers = await em().find(entities.TelegramUser, {
    telegramId: { $in: [TRAINER, SUPPORT, client].map(String) },
  });
  t.is(await em().count(AuditLog, { actorId: { $in: callers.map((user) => user.id) } }), 0);
});

test('invoice: a client gets a Stars subscription link whose signed payload names them and the plan', async (t) => {
  const plan = await createPlan({ title: 'Invoice plan', description: 'Monthly', priceStars: 420 });
  const telegramId = freshClient();
  const response = await subscribe(telegramId, plan.id);
  t.is(response.status, 201);
  const { invoiceLink } = await response.json();
  const invoice = system.telegram.payments.invoices.find((i) => i.link === invoiceLink);
  const expected = { title: 'Invoice plan', description: 'Monthly', currency: 'XTR', amount: 420 };
  t.like(invoice, { ...expected, subscriptionPeriod: 2_592_000 });
  const user = await em().findOneOrFail(entities.TelegramUser, { telegramId: String(telegramId) });
  const target = { tenantId: DEFAULT_TENANT_ID, planId: plan.id, userId: user.id };
  t.deepEqual(verifyInvoicePayload(invoice!.payload, KEY), target);

  await refused(t, subscribe(telegramId, randomUUID()), 404, 'plan_not_found');
  await refused(t, subscribe(telegramId, 'x'), 400, 'validation_failed');
  await refused(t, subscribe(null, plan.id), 401, 'missing_credentials');
});

test('invoice: a client opening too many invoices is 429, sparing the Telegram budget of the bot', async (t) => {
  const plan = await createPlan();
  const telegramId = freshClient();
  for (let i = 0; i < INVOICES_PER_HOUR; i++) t.is((await subscribe(telegramId, plan.id)).status, 201);
  const response = await subscribe(telegramId, plan.id);
  t.true(Number(response.headers.get('retry-after')) > 0);
  await expectError(t, response, 429, 'invoice_rate_limited');
  t.is(await invoicesFor(telegramId), INVOICES_PER_HOUR, 'Telegram was not asked');
  t.is((await subscribe(freshClient(), plan.id)).status, 201, 'other clients are not affected');
});

test('invoice: 409 when already paid up, without asking Telegram', async (t) => {
  const { telegramId } = await payingClient();
  const plan = await createPlan();
  await refused(t, subscribe(telegramId, plan.id), 409, 'already_subscribed');
  t.is(await invoicesFor(telegramId), 0);
});

test.serial(
  'invoice: Telegram down is 503 with Retry-After, a refusal 502 with its reason; all counted',
  async (t) => {
    const plan = await createPlan();
    const before = await errorsAt('invoice');
    system.telegram.failNext(1, 'server_error', { method: 'createInvoiceLink' });
    const down = await subscribe(freshClient(), plan.id);
    t.truthy(down.headers.get('retry-after'));
    await expectError(t, down, 503, 'telegram_unavailable');
    system.telegram.failNext(1, 'rate_limited', { method: 'createInvoiceLink', retryAfterSeconds: 7 });
    const limited = await subscribe(freshClient(), plan.id);
    t.is(limited.headers.get('retry-after'), '7');
    await expectError(t, limited, 503, 'telegram_unavailable');
    // A plan Telegram will not sell (written around the API's own checks).
    const now = new Date();
    const unsellable = await em().insert(SubscriptionPlan, {
      ...{ id: randomUUID(), tenantId: DEFAULT_TENANT_ID, title: 'Empty', description: '', priceStars: 5 },
      ...{ periodDays: 30, status: 'active' as const, createdAt: now, updatedAt: now },
    });
    const body = await refused(t, subscribe(freshClient(), unsellable), 502, 'telegram_refused');
    t.regex(body.error.message, /description/);
    t.false(body.error.message.includes(TEST_BOT_TOKEN.split(':')[1]!), 'no token in the message');
    t.is(await errorsAt('invoice'), before + 3);
  },
);

test('invoice: without a bot token payments are 503 payments_unavailable', async (t) => {
  // Not reachable over HTTP here: without a bot token no Mini App caller can authenticate.
  const deps = { stars: undefined, invoiceKey: undefined, metrics: system.metrics, miniAppUrl: undefined };
  const input = { tenantId: DEFAULT_TENANT_ID, userId: randomUUID(), planId: randomUUID() };
  const error = await t.throwsAsync(createSubscriptionInvoice(em(), input, { ...deps, log: {} as never }));
  t.like(error, { status: 503, code: 'payments_unavailable' });
});

test('refund: Telegram refunds, the subscription ends, the refund and its audit are written once', async (t) => {
  const { telegramId, user, chargeId } = await payingClient();
  const response = await refund(chargeId);
  t.is(response.status, 200);
  const body = await response.json();
  t.like(body, { chargeId, subscription: { status: 'refunded', renews: false } });
  t.true(fakeSubscription(chargeId).refunded, 'Telegram refunded it');
  t.is((await refundedAt(chargeId))?.toISOString(), body.refundedAt);
  const details = { chargeId, telegramId: String(telegramId), refundedElsewhere: false };
  t.like((await audits('payment.refund', chargeId))[0], { targetType: 'payment', details });
  t.is(await em().count(SubscriptionEvent, { userId: user.id, kind: 'refunded', source: 'panel' }), 1);
  t.is(await em().count(Notification, { userId: user.id, kind: 'subscription_refunded' }), 1);

  await refused(t, refund(chargeId), 409, 'already_refunded');
  t.is(chargeCalls('refundStarPayment', chargeId), 1, 'no second Telegram call');
  t.is((await audits('payment.refund', chargeId)).length, 1);
  await refused(t, refund('stx-nobody'), 404, 'payment_not_found');
});

test.serial('refund: Telegram down is 503 and nothing is recorded; the retry succeeds', async (t) => {
  const { user, chargeId } = await payingClient();
  const before = await errorsAt('refund');
  system.telegram.failNext(1, 'server_error', { method: 'refundStarPayment' });
  await refused(t, refund(chargeId), 503, 'telegram_unavailable');
  t.is(await errorsAt('refund'), before + 1);
  t.is(await refundedAt(chargeId), null);
  t.is((await audits('payment.refund', chargeId)).length, 0);
  t.is((await subscriptionOf(user.id)).status, 'active');
  t.is((await refund(chargeId)).status, 200);
});

test('refund: a charge Telegram already refunded is recorded as such; one it does not know is 502', async (t) => {
  const elsewhere = await payingClient();
  system.telegram.payments.refundFromTelegram(elsewhere.chargeId);
  t.is((await refund(elsewhere.chargeId)).status, 200);
  t.like((await audits('payment.refund', elsewhere.chargeId))[0], { details: { refundedElsewhere: true } });
  t.is((await subscriptionOf(elsewhere.user.id)).status, 'refunded');

  const unknown = await payingClient({ knownToTelegram: false });
  const body = await refused(t, refund(unknown.chargeId), 502, 'telegram_refused');
  t.regex(body.error.message, /CHARGE_ID_INVALID/);
  t.is(await refundedAt(unknown.chargeId), null);
  t.is((await audits('payment.refund', unknown.chargeId)).length, 0);
});

test('cancel: renewal stops at Telegram, paid time is kept, the client is told once, audited once', async (t) => {
  const { telegramId, user, chargeId } = await payingClient();
  const response = await cancel(telegramId);
  t.is(response.status, 200);
  const view = await response.json();
  const row = await subscriptionOf(user.id);
  const periodEnd = row.currentPeriodEnd!.toISOString();
  t.deepEqual(view, {
    planTitle: row.planTitle,
    status: 'cancelled',
    renews: false,
    currentPeriodEnd: periodEnd,
  });
  t.true(fakeSubscription(chargeId).canceled, 'Telegram will not renew it');
  t.like((await audits('subscription.cancel', row.id))[0], {
    targetType: 'subscription',
    details: { chargeId },
  });
  t.is(await em().count(SubscriptionEvent, { userId: user.id, kind: 'cancelled', source: 'panel' }), 1);
  t.is(await em().count(Notification, { userId: user.id, dedupeKey: `cancel-${chargeId}` }), 1);

  const again = await cancel(telegramId);
  t.is(again.status, 200);
  t.deepEqual(await again.json(), view);
  t.is(
    chargeCalls('editUserStarSubscription', chargeId),
    1,
    'already cancelled: Telegram is not asked again',
  );
  t.is((await audits('subscription.cancel', row.id)).length, 1);
});

test('cancel: no live subscription is 404, an externally billed one 409', async (t) => {
  await refused(t, cancel(5_999_999), 404, 'no_subscription');
  const ids = [freshClient(), freshClient(), freshClient()];
  const [never, ended, external] = await seedUsers(em(), ids, { isClient: true });
  const seeding = em();
  seedSubscription(seeding, ended!, { status: 'refunded', renews: false });
  seedSubscription(seeding, external!, { provider: 'http', currency: 'USD' });
  await seeding.flush();
  await refused(t, cancel(never!.telegramId), 404, 'no_subscription');
  await refused(t, cancel(ended!.telegramId), 404, 'no_subscription');
  await refused(t, cancel(external!.telegramId), 409, 'managed_externally');
  await refused(t, cancel('abc'), 400, 'invalid_telegram_id');
});

test.serial('cancel: Telegram down is 503 and the subscription still renews, nothing recorded', async (t) => {
  const { telegramId, user } = await payingClient();
  system.telegram.failNext(1, 'server_error', { method: 'editUserStarSubscription' });
  await refused(t, cancel(telegramId), 503, 'telegram_unavailable');
  const row = await subscriptionOf(user.id);
  t.like(row, { status: 'active', renews: true });
  t.is((await audits('subscription.cancel', row.id)).length, 0);
  t.is(await em().count(SubscriptionEvent, { userId: user.id, kind: 'cancelled' }), 0);
});

test.serial('sync now: one billing.sync per minute however often it is clicked, audited once', async (t) => {
  const minute = () => new Date().toISOString().slice(0, 16);
  const started = minute();
  for (let i = 0; i < 3; i++) {
    const response = await post('/api/panel/billing/sync', OWNER);
    t.is(response.status, 202);
    t.deepEqual(await response.json(), { queued: true });
  }
  if (minute() !== started) return t.pass('the minute turned mid-test; coalescing not measurable');
  const key = started.replace(/\D/g, '');
  const jobs = await em().find(Outbox, { jobName: 'billing.sync' });
  t.is(jobs.filter((job) => job.payload.trigger === 'panel' && job.payload.requestKey === key).length, 1);
  const audited = (await audits('billing.sync')).filter((row) => row.details?.requestKey === key);
  t.like(audited, [{ targetType: 'billing' }]);
});
