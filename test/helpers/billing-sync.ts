import { randomUUID } from 'node:crypto';
import {
  type BillingSyncSummary,
  createBillingSyncDeps,
  runBillingSync,
} from '../../src/billing/billing-sync.ts';
import { invoiceKey, signInvoicePayload } from '../../src/billing/invoice-payload.ts';
import { createLogger } from '../../src/config/logger.ts';
import { SubscriptionEvent, SubscriptionPlan, type TelegramUser } from '../../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, type EntityManager } from '../../src/db/orm.ts';
import { TEST_BOT_TOKEN } from './init-data.ts';
import { startTestSystem, type TestSystem } from './test-system.ts';

/** Worker queues without `billing`: tests run the sync themselves and no scheduled run races them. */
export const QUEUES_BUT_BILLING = 'plans,notifications,metrics';

/** A test system whose worker leaves billing to the test; stopped at the test's end. */
export async function billingTestSystem(
  t: { teardown(fn: () => Promise<void>): void },
  env: Record<string, string> = {},
): Promise<TestSystem> {
  const system = await startTestSystem({ env: { WORKER_QUEUES: QUEUES_BUT_BILLING, ...env } });
  t.teardown(() => system.stop());
  return system;
}

/** A counter's value, or a histogram's observation count (`<name>_count`), for these labels. */
export async function metricValue(
  system: TestSystem,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await system.metrics.registry.getSingleMetric(name)?.get();
  const values = (metric?.values ?? []) as Array<{
    metricName?: string;
    labels: Record<string, unknown>;
    value: number;
  }>;
  const value = values.find(
    (v) =>
      (v.metricName === undefined || v.metricName === `${name}_count`) &&
      Object.entries(labels).every(([key, wanted]) => v.labels[key] === wanted),
  );
  return value?.value ?? 0;
}

/** One billing.sync run with the deps the worker builds from the system's config. */
export function runSync(system: TestSystem, telegramIds?: string[]): Promise<BillingSyncSummary> {
  return runBillingSync({
    orm: system.orm,
    metrics: system.metrics,
    log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    billing: createBillingSyncDeps(system.config),
    miniAppUrl: system.config.telegram.miniAppUrl,
    tenantId: DEFAULT_TENANT_ID,
    ...(telegramIds ? { telegramIds } : {}),
  });
}

export async function seedPlan(em: EntityManager, priceStars = 250): Promise<SubscriptionPlan> {
  const plan = em.create(SubscriptionPlan, {
    id: randomUUID(),
    tenantId: DEFAULT_TENANT_ID,
    title: 'Monthly coaching',
    description: 'A plan every week and answers within a day',
    priceStars,
  });
  await em.flush();
  return plan;
}

/** The payload our bot would have put on this user's invoice for the plan. */
export function payloadFor(user: Pick<TelegramUser, 'id'>, plan: Pick<SubscriptionPlan, 'id'>): string {
  return signInvoicePayload(
    { tenantId: DEFAULT_TENANT_ID, planId: plan.id, userId: user.id },
    invoiceKey(TEST_BOT_TOKEN),
  );
}

/** Payments Telegram took whose updates never reached the bot; returns their charge ids. */
export function lostPayments(
  system: TestSystem,
  items: Array<{ user: TelegramUser; plan: SubscriptionPlan; date?: number }>,
): string[] {
  return system.telegram.payments.recordPayments(
    items.map(({ user, plan, date }) => ({
      user: { id: Number(user.telegramId), first_name: user.firstName },
      payload: payloadFor(user, plan),
      amount: plan.priceStars,
      subscriptionPeriod: 2_592_000,
      ...(date ? { date } : {}),
    })),
  );
}

export async function eventKinds(em: EntityManager, user: Pick<TelegramUser, 'id'>): Promise<string[]> {
  const events = await em.find(SubscriptionEvent, { userId: user.id }, { orderBy: { at: 'asc' } });
  return events.map((event) => event.kind);
}

/** Row counts of everything a sync may write, to show a second run wrote nothing. */
export async function billingRowCounts(em: EntityManager): Promise<Record<string, number>> {
  const [row] = await em.getConnection().execute<Record<string, string>[]>(
    `select (select count(*) from subscription) as subscriptions,
            (select count(*) from star_payment) as payments,
            (select count(*) from star_payment where refunded_at is not null) as refunds,
            (select count(*) from subscription_event) as events,
            (select count(*) from notification) as notifications,
            (select max(updated_at) from subscription) as last_update`,
  );
  return Object.fromEntries(
    Object.entries(row!).map(([key, value]) => [
      key,
      key === 'last_update' ? Date.parse(value) : Number(value),
    ]),
  );
}
