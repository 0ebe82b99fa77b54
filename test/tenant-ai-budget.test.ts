import test from 'ava';
import { Redis } from 'ioredis';
import { PersonalPlan } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import { submitSurvey } from '../src/domain/surveys.ts';
import { validAnswers } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { TEST_REDIS_URL } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

// The fake OpenAI: only AI plans count toward a tenant's budget (the offline generator is free).
// Tenant b may have one AI plan a day, tenant c one AI request a minute; the default tenant has
// the install's defaults.
let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    openai: true,
    tenants: [
      { slug: 'b', aiPlansPerDay: 1 },
      { slug: 'c', aiRequestsPerMinute: 1 },
    ],
  });
});
test.after.always(async () => {
  await system?.stop();
});

let nextTelegramId = 8_800_001;

/** A client of `tenantId` submits a survey (as the Mini App would); returns the plan id. */
async function clientSubmits(tenantId: string): Promise<string> {
  const em = forkForTenant(system.orm, tenantId);
  const [user] = await seedUsers(em, [nextTelegramId++], { tenantId });
  return (await submitSurvey(em, { tenantId, userId: user!.id, answers: validAnswers, plansPerDay: 10 }))
    .planId;
}

const statusOf = async (tenantId: string, planId: string) =>
  (await forkForTenant(system.orm, tenantId).findOneOrFail(PersonalPlan, { id: planId }, { refresh: true }))
    .status;

const planJob = (planId: string) => system.worker!.queues.plans.getJob(`plan-${planId}`);

test.serial(
  "plans per day: b's second plan waits for tomorrow while other tenants' plans go on",
  async (t) => {
    const b = system.tenants.b!;
    const first = await clientSubmits(b.id);
    await waitFor('first plan ready', async () => (await statusOf(b.id, first)) === 'ready', 20_000);

    const second = await clientSubmits(b.id);
    await waitFor(
      'second plan held back',
      () =>
        system.logs.some((line) => line.includes('tenant_ai_plans_per_day_reached') && line.includes(second)),
      20_000,
    );
    const others = [await clientSubmits(DEFAULT_TENANT_ID), await clientSubmits(DEFAULT_TENANT_ID)];
    for (const plan of others)
      await waitFor(
        'default plan ready',
        async () => (await statusOf(DEFAULT_TENANT_ID, plan)) === 'ready',
        20_000,
      );

    t.is(await statusOf(b.id, second), 'queued', 'the plan stays queued, not failed');
    const job = await planJob(second);
    t.is(await job?.getState(), 'delayed');
    t.is(job?.attemptsMade, 0, 'no attempt spent');
    // Until the next UTC day (plus up to a minute of spread).
    const nextDay = new Date();
    nextDay.setUTCHours(24, 0, 0, 0);
    // BullMQ scores a delayed job by its due time (ms) times 4096 plus a counter.
    const redis = new Redis(TEST_REDIS_URL);
    t.teardown(() => redis.disconnect());
    const score = await redis.zscore(`${system.config.redis.queuePrefix}:plans:delayed`, job!.id!);
    t.true(Math.floor(Number(score) / 4096) >= nextDay.getTime(), 'due on the next UTC day');
    t.is(
      system.tenants.b!.telegram.sentMessages.length,
      1,
      "b's client of the first plan heard from b's bot; the second has nothing yet",
    );
    const metric = (
      await system.metrics.registry.getSingleMetricAsString('ai_tenant_plans_per_day_delays_total')
    )
      .split('\n')
      .find((line) => line.startsWith('ai_tenant_plans_per_day_delays_total '));
    t.truthy(metric && Number(metric.split(' ')[1]) >= 1);
  },
);

test.serial("requests per minute: c's second AI call waits without spending an attempt", async (t) => {
  const c = system.tenants.c!;
  const first = await clientSubmits(c.id);
  await waitFor('first plan ready', async () => (await statusOf(c.id, first)) === 'ready', 20_000);
  const second = await clientSubmits(c.id);
  await waitFor(
    "c's second plan delayed",
    async () => (await (await planJob(second))?.getState()) === 'delayed',
    20_000,
  );
  const other = await clientSubmits(DEFAULT_TENANT_ID);
  await waitFor(
    'default plan ready',
    async () => (await statusOf(DEFAULT_TENANT_ID, other)) === 'ready',
    20_000,
  );
  t.not(await statusOf(c.id, second), 'ready');
  t.is((await planJob(second))?.attemptsMade, 0, 'no attempt spent');
});
