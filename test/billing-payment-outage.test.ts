import test from 'ava';
import { StarPayment, Subscription, TelegramUser } from '../src/db/entities/index.ts';
import { authHeader } from './helpers/init-data.ts';
import { startTcpProxy, viaProxy } from './helpers/tcp-proxy.ts';
import { startTestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

const OWNER = 830001;
const CLIENT = { id: 830002, first_name: 'Olga' };
const SECRET = 'payment-outage-webhook-secret';
const DAY_MS = 24 * 3600_000;

test('PostgreSQL down: pre-checkout says "try again", and a renewal is answered 503 until it is recorded', async (t) => {
  const proxy = await startTcpProxy(5432);
  const system = await startTestSystem({
    worker: false,
    env: {
      TELEGRAM_ADMINS: String(OWNER),
      TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: SECRET,
    },
    systemDatabaseUrl: viaProxy(proxy),
  });
  t.teardown(async () => {
    await proxy.restore().catch(() => {});
    await system.stop();
    await proxy.close().catch(() => {});
  });
  system.telegram.deliverUpdatesTo(`${system.baseUrl}/telegram/webhook`, SECRET);
  const payments = system.telegram.payments;

  const created = await system.request('/api/panel/subscription-plans', {
    method: 'POST',
    auth: authHeader({ id: OWNER }),
    body: JSON.stringify({ title: 'Outage plan', description: 'Monthly coaching', priceStars: 99 }),
  });
  t.is(created.status, 201);
  const { id: planId } = await created.json();
  const invoice = await system.request('/api/subscriptions', {
    method: 'POST',
    auth: authHeader(CLIENT),
    body: JSON.stringify({ planId }),
  });
  t.is(invoice.status, 201);
  const { invoiceLink } = await invoice.json();

  await proxy.cut();
  const refused = await payments.openInvoice(invoiceLink, CLIENT);
  t.false(refused.answer.ok, 'nothing is charged while we cannot record it');
  t.regex(refused.answer.errorMessage ?? '', /temporarily unavailable/);

  await proxy.restore();
  const paid = await payments.openInvoice(invoiceLink, CLIENT);
  t.true(paid.answer.ok);
  await payments.waitForDeliveries();

  const renewal = payments.renew(paid.payment!.chargeId, { deliver: false })!;
  await proxy.cut();
  payments.deliver(renewal.update);
  await waitFor(
    'the webhook refused the renewal',
    () => system.telegram.deliveries.some((d) => d.updateId === renewal.update.update_id && d.status === 503),
    30_000,
  );
  await proxy.restore();
  await payments.waitForDeliveries();

  const em = system.em();
  t.is(await em.count(StarPayment, { chargeId: renewal.chargeId }), 1, 'recorded once, after the outage');
  const user = await em.findOneOrFail(TelegramUser, { telegramId: String(CLIENT.id) });
  const subscription = await em.findOneOrFail(Subscription, { userId: user.id });
  t.is(subscription.currentPeriodEnd!.getTime(), paid.payment!.expiresAt! * 1000 + 30 * DAY_MS);
});
