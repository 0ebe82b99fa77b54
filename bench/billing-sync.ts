import pg from 'pg';
import {
  type BillingSyncSummary,
  createBillingSyncDeps,
  runBillingSync,
} from '../src/billing/billing-sync.ts';
import { invoiceKey, signInvoicePayload } from '../src/billing/invoice-payload.ts';
import { loadConfig } from '../src/config/env.ts';
import { createLogger } from '../src/config/logger.ts';
import { createOrm, DEFAULT_TENANT_ID, forkForTenant, migrateUp } from '../src/db/orm.ts';
import { startFakeTelegramBotApi } from '../src/dev/fake-telegram-bot-api.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import { startFakeBillingService } from '../test/fakes/fake-billing-service.ts';
import { TEST_BOT_TOKEN } from '../test/helpers/init-data.ts';
import { createTestDatabase } from '../test/helpers/test-database.ts';

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** What a sync writes, in foreign-key order: the baseline copies exactly these rows back. */
const WRITTEN = ['subscription', 'star_payment', 'subscription_event', 'notification', 'outbox'] as const;

/**
 * billing.sync against N subscribers (default 10,000), with production defaults (page of 100 for
 * Stars, BILLING_BATCH_SIZE 500 for http, BILLING_SYNC_TIMEOUT_MS 120 s) and the run called the way
 * the job calls it (src/billing/billing-sync.ts), in this process:
 *
 * - Stars: N subscription payments Telegram took whose updates the bot never got (the fake Bot API's
 *   recordPayments), so the first sync records all of them; then a second sync with nothing new.
 * - http: the fake billing service knows an active subscription for each of the N clients; first
 *   sync mirrors them all, a second finds nothing changed.
 *
 * Baseline: the very rows each first sync wrote (subscriptions, payments, events, client messages,
 * outbox rows), copied back in with one raw-`pg` `insert ... select` per table in one transaction:
 * the cost of the writes alone, without the per-user locking and checking the sync does.
 *
 *   npm run bench -- billing [subscribers] [repeats]
 */
export async function billingSync(subscribers = 10_000, repeats = 3): Promise<Record<string, number>> {
  const db = await createTestDatabase();
  const telegram = await startFakeTelegramBotApi({ token: TEST_BOT_TOKEN, maxRecorded: 1_000_000 });
  const billing = await startFakeBillingService();
  const orm = await createOrm({ url: db.url });
  await migrateUp(orm);
  const raw = new pg.Client({ connectionString: db.url });
  await raw.connect();
  const base = {
    DATABASE_URL: db.url,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    BILLING_URL: billing.url,
    BILLING_API_KEY: billing.apiKey,
  };
  const deps = {
    stars: createBillingSyncDeps(loadConfig({ ...base, BILLING_PROVIDER: 'stars' })),
    http: createBillingSyncDeps(loadConfig({ ...base, BILLING_PROVIDER: 'http' })),
  };
  const log = createLogger('warn');
  const run = (provider: 'stars' | 'http'): Promise<BillingSyncSummary> =>
    runBillingSync({
      orm,
      metrics: createMetrics(),
      log,
      billing: deps[provider],
      miniAppUrl: 'https://coach.example/app',
      tenantId: DEFAULT_TENANT_ID,
    });
  /**
   * Runs until the provider is caught up, as the job does: a Stars run that stops at its page
   * budget continues (ctx.delay), one that fails is retried by the queue (here, at once).
   */
  const untilDone = async (provider: 'stars' | 'http') => {
    const started = performance.now();
    let failures = 0;
    for (let runs = 1; ; runs++) {
      try {
        const summary = await run(provider);
        if (!summary.more) return { ms: performance.now() - started, runs, failures };
      } catch (error) {
        failures++;
        process.stderr.write(`  ${provider} run ${runs} failed (${String(error)}); running again\n`);
        if (failures >= 5) throw error;
      }
    }
  };
  const starCalls = () =>
    telegram.calls.filter((c) => c.method.toLowerCase() === 'getstartransactions').length;

  try {
    await raw.query(
      `insert into telegram_user (id, tenant_id, telegram_id, first_name, is_client, created_at, updated_at)
       select gen_random_uuid(), $1, 5000000000 + n, 'Client ' || n, true, now(), now() from generate_series(1, $2) n`,
      [DEFAULT_TENANT_ID, subscribers],
    );
    const plan = await raw.query<{ id: string }>(
      `insert into subscription_plan (id, tenant_id, title, description, price_stars, created_at, updated_at)
       values (gen_random_uuid(), $1, 'Monthly coaching', 'Bench plan', 250, now(), now()) returning id`,
      [DEFAULT_TENANT_ID],
    );
    const users = await raw.query<{ id: string; telegram_id: string }>(
      'select id, telegram_id from telegram_user order by telegram_id',
    );
    const key = invoiceKey(TEST_BOT_TOKEN);
    const paidAt = Math.floor(Date.now() / 1000) - 3600;
    telegram.payments.recordPayments(
      users.rows.map((user) => ({
        user: { id: Number(user.telegram_id), first_name: 'Client' },
        payload: signInvoicePayload(
          { tenantId: DEFAULT_TENANT_ID, planId: plan.rows[0]!.id, userId: user.id },
          key,
        ),
        amount: 250,
        subscriptionPeriod: 2_592_000,
        date: paidAt,
      })),
    );
    for (const user of users.rows) billing.set(user.telegram_id, { status: 'active' });

    const rows: Record<string, number[]> = {};
    const add = (name: string, value: number) => {
      rows[name] = [...(rows[name] ?? []), value];
    };
    for (let repeat = 1; repeat <= repeats; repeat++) {
      for (const provider of ['stars', 'http'] as const) {
        await raw.query(`truncate ${WRITTEN.join(', ')}, billing_sync_state`);
        const callsBefore = provider === 'stars' ? starCalls() : billing.calls;
        const first = await untilDone(provider);
        const calls = (provider === 'stars' ? starCalls() : billing.calls) - callsBefore;
        const active = await forkForTenant(orm)
          .getConnection()
          .execute<{ n: string }[]>("select count(*) as n from subscription where status = 'active'");
        if (Number(active[0]!.n) !== subscribers) throw new Error(`${provider}: only ${active[0]!.n} active`);
        const callsBeforeSecond = provider === 'stars' ? starCalls() : billing.calls;
        const second = await untilDone(provider);
        const secondCalls = (provider === 'stars' ? starCalls() : billing.calls) - callsBeforeSecond;
        const baselineMs = await copyBackBaseline(raw);
        process.stderr.write(
          `  #${repeat} ${provider}: first ${round(first.ms / 1000, 2)} s in ${first.runs} run(s) (${first.failures} failed), ${calls} calls; ` +
            `second ${round(second.ms)} ms, ${secondCalls} call(s); raw-pg copy of the same rows ${round(baselineMs)} ms\n`,
        );
        add(`${provider}FirstSyncSeconds`, round(first.ms / 1000, 2));
        add(`${provider}FirstSyncRuns`, first.runs);
        add(`${provider}FirstSyncFailedRuns`, first.failures);
        add(`${provider}FirstSyncCalls`, calls);
        add(`${provider}SecondSyncMs`, round(second.ms));
        add(`${provider}SecondSyncCalls`, secondCalls);
        add(`${provider}BaselineMs`, round(baselineMs));
        add(`${provider}RatioToBaseline`, round(first.ms / baselineMs));
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return {
      subscribers,
      repeats,
      httpBatchSize: deps.http.batchSize,
      ...Object.fromEntries(Object.entries(rows).map(([name, values]) => [name, median(values)])),
    };
  } finally {
    await raw.end();
    await orm.close();
    await billing.close();
    await telegram.close();
    await db.drop();
  }
}

/** Copies out what the sync wrote, empties the tables, and times writing the same rows back in one transaction. */
async function copyBackBaseline(raw: pg.Client): Promise<number> {
  for (const table of WRITTEN) {
    await raw.query(`drop table if exists bench_${table}`);
    await raw.query(`create table bench_${table} as select * from ${table}`);
  }
  await raw.query(`truncate ${WRITTEN.join(', ')}`);
  const started = performance.now();
  await raw.query('begin');
  for (const table of WRITTEN) await raw.query(`insert into ${table} select * from bench_${table}`);
  await raw.query('commit');
  return performance.now() - started;
}
