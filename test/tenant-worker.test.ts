import test from 'ava';
import { z } from 'zod';
import { checkHandlers, jobHandlers } from '../jobs/catalogue.ts';
import { Broadcast, Notification, PersonalPlan, Tenant } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../src/db/orm.ts';
import { createBroadcast } from '../src/domain/broadcasts.ts';
import { queueNotification } from '../src/domain/notifications.ts';
import { submitSurvey } from '../src/domain/surveys.ts';
import { catalogueProblems, JOBS } from '../src/queue/job-catalogue.ts';
import { createTenant } from '../src/tenants/tenant-admin.ts';
import { sealContext, secretBoxOf } from '../src/tenants/tenant-directory.ts';
import { removeTenant } from '../src/tenants/tenant-removal.ts';
import { validAnswers } from './helpers/init-data.ts';
import { seedUsers } from './helpers/seed.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

/** Recipients of the default tenant's broadcast: a few seconds of its bot's 30 messages a second. */
const RECIPIENTS = 90;
const BROADCAST_TEXT = 'The gym is closed on Sunday.';

let system: TestSystem;
test.before(async () => {
  // Real Telegram limits on every fake bot (30/s, 1/s per chat); the tenant table is re-read often
  // so a token changed in the table reaches the worker quickly.
  system = await startTestSystem({ tenants: [{ slug: 'b' }], env: { TENANT_CACHE_MS: '200' } });
});
test.after.always(async () => {
  await system?.stop();
});

/** A client of `tenantId` submits a survey (as the Mini App would); returns the plan id. */
async function clientSubmits(tenantId: string, telegramId: number): Promise<string> {
  const em = forkForTenant(system.orm, tenantId);
  const [user] = await seedUsers(em, [telegramId], { tenantId });
  const submitted = await submitSurvey(em, {
    tenantId,
    userId: user!.id,
    answers: validAnswers,
    plansPerDay: 10,
  });
  return submitted.planId;
}

const planReadyIn = (fake: TestSystem['telegram'], chatId: number) =>
  fake.sentMessages.find((m) => m.chatId === String(chatId));

test.serial("a plan of tenant b's client goes out through b's bot with b's Mini App button", async (t) => {
  const b = system.tenants.b!;
  const planId = await clientSubmits(b.id, 7_100_001);
  const message = await waitFor('plan message on b', () => planReadyIn(b.telegram, 7_100_001), 20_000);
  const plan = await forkForTenant(system.orm, b.id).findOneOrFail(PersonalPlan, { id: planId });
  t.is(plan.status, 'ready');
  const button = (message.replyMarkup as Markup).inline_keyboard[0]![0]!;
  t.deepEqual(button.web_app, { url: 'https://coach.example/app/b/' }, "b's own Mini App");
  t.is(planReadyIn(system.telegram, 7_100_001), undefined, "the default tenant's bot sent nothing");
});

type Markup = { inline_keyboard: { text: string; web_app?: { url: string } }[][] };

test.serial(
  "one tenant's broadcast does not hold back another tenant's plan message, and no bot exceeds its limits",
  async (t) => {
    const b = system.tenants.b!;
    const em = system.em();
    const [owner] = await seedUsers(em, [7_200_000], { role: 'owner' });
    await seedUsers(
      em,
      Array.from({ length: RECIPIENTS }, (_, i) => 7_200_001 + i),
      { isClient: true },
    );
    const broadcast = await createBroadcast(em, {
      tenantId: DEFAULT_TENANT_ID,
      actorId: owner!.id,
      text: BROADCAST_TEXT,
      segment: 'clients',
    });
    const broadcastSent = () => system.telegram.sentMessages.filter((m) => m.text === BROADCAST_TEXT).length;
    // Every recipient's job is queued and the bot is busy with them before b's client submits.
    await waitFor(
      'broadcast fanned out and sending',
      async () =>
        (await system.em().findOne(Broadcast, { id: broadcast.id }, { refresh: true }))?.status ===
          'sending' && broadcastSent() > 0,
      20_000,
    );

    await clientSubmits(b.id, 7_300_001);
    await waitFor('plan message on b', () => planReadyIn(b.telegram, 7_300_001), 20_000);
    const sentBeforeB = broadcastSent();
    t.log(`broadcast messages sent when b's plan message arrived: ${sentBeforeB}/${RECIPIENTS}`);
    t.true(
      sentBeforeB < RECIPIENTS,
      `b's plan message came while the broadcast was still going (${sentBeforeB}/${RECIPIENTS} sent)`,
    );

    await waitFor('broadcast delivered', () => broadcastSent() === RECIPIENTS, 60_000);
    t.is(
      new Set(system.telegram.sentMessages.filter((m) => m.text === BROADCAST_TEXT).map((m) => m.chatId))
        .size,
      RECIPIENTS,
    );
    t.is(
      b.telegram.sentMessages.filter((m) => m.text === BROADCAST_TEXT).length,
      0,
      "b's bot sent none of it",
    );
    t.is(system.telegram.rateLimitHits, 0, 'the default bot never got a 429');
    t.is(b.telegram.rateLimitHits, 0, "b's bot never got a 429");
  },
);

test.serial("a revoked bot token pauses that tenant's messages only", async (t) => {
  const b = system.tenants.b!;
  const box = secretBoxOf(system.config)!;
  const tenants = system.orm.em.fork();
  // The coach revoked the token in @BotFather: Telegram now answers 401 to it.
  await tenants.nativeUpdate(
    Tenant,
    { id: b.id },
    { botTokenSealed: box.seal('2999999999:AARevokedRevokedRevokedRevoked', sealContext(b.id, 'bot_token')) },
  );
  t.teardown(() =>
    system.orm.em
      .fork()
      .nativeUpdate(
        Tenant,
        { id: b.id },
        { botTokenSealed: box.seal(b.botToken, sealContext(b.id, 'bot_token')) },
      ),
  );
  // Within TENANT_CACHE_MS the worker reads the table again; now, so the test need not wait (twice:
  // a read already in flight may predate the update).
  await system.worker!.tenants.refresh();
  await system.worker!.tenants.refresh();

  const bEm = forkForTenant(system.orm, b.id);
  const [bUser] = await seedUsers(bEm, [7_400_001], { tenantId: b.id });
  const bNote = queueNotification(bEm, {
    tenantId: b.id,
    user: bUser!,
    kind: 'test',
    dedupeKey: 'revoked:b',
    text: 'For b',
    button: null,
    now: new Date(),
  });
  await bEm.flush();
  await waitFor(
    "b's bot refused",
    () =>
      system.logs.some((line) => line.includes('"telegram_unauthorized"') && line.includes('"tenant":"b"')),
    20_000,
  );

  // The default tenant keeps sending meanwhile.
  const em = system.em();
  const users = await seedUsers(em, [7_400_101, 7_400_102, 7_400_103]);
  for (const user of users) {
    queueNotification(em, {
      tenantId: DEFAULT_TENANT_ID,
      user,
      kind: 'test',
      dedupeKey: `revoked:default:${user.telegramId}`,
      text: 'For the default tenant',
      button: null,
      now: new Date(),
    });
  }
  await em.flush();
  await waitFor(
    'default tenant delivered',
    () => system.telegram.sentMessages.filter((m) => m.text === 'For the default tenant').length === 3,
    20_000,
  );
  const row = await bEm.findOneOrFail(Notification, { id: bNote.id }, { refresh: true });
  t.is(row.status, 'pending', "b's message waits for its bot, it did not fail for good");
  t.is(b.telegram.sentMessages.filter((m) => m.text === 'For b').length, 0);
});

test('a catalogue job whose payload does not name its tenant is refused', (t) => {
  t.deepEqual(catalogueProblems(JOBS), []);
  const noTenant = {
    ...JOBS,
    'test.untenanted': { queue: 'metrics', payload: z.object({ word: z.string() }), jobId: () => 'x' },
    'test.optional': {
      queue: 'metrics',
      payload: z.object({ tenantId: z.uuid().optional() }),
      jobId: () => 'y',
    },
  } as never;
  const handler = { handle: async () => {} };
  const error = t.throws(() =>
    checkHandlers(noTenant, {
      ...jobHandlers,
      'test.untenanted': handler,
      'test.optional': handler,
    } as never),
  );
  t.regex(error!.message, /"test.untenanted" has no required tenantId/);
  t.regex(error!.message, /"test.optional" has no required tenantId/);
});

test.serial('a tenant created later gets its scheduled jobs, and a removed one loses them', async (t) => {
  const queue = system.worker!.queues.metrics;
  const schedulerIds = async () => (await queue.getJobSchedulers()).map((scheduler) => scheduler.key);
  const created = await createTenant(system.orm, secretBoxOf(system.config), {
    slug: 'later',
    name: 'Coach later',
    botToken: '2999999998:AALaterLaterLaterLaterLaterLater',
  });
  // The worker's periodic pass (every TENANT_CACHE_MS) picks it up: no restart.
  await waitFor(
    'scheduler of the new tenant',
    async () => (await schedulerIds()).includes(`metrics-${created.id}`),
    20_000,
  );
  t.true(
    (await system.worker!.queues.billing.getJobSchedulers()).some((s) => s.key === `billing-${created.id}`),
  );

  // As tenant:remove does, with its data; its first scheduled jobs may still be writing: try again.
  const removed = async () => {
    await removeTenant(system.orm, created.id);
    return true;
  };
  await waitFor('tenant removed', () => removed().catch(() => false), 20_000);
  await waitFor(
    'scheduler removed',
    async () => !(await schedulerIds()).includes(`metrics-${created.id}`),
    20_000,
  );
  t.true((await schedulerIds()).includes(`metrics-${DEFAULT_TENANT_ID}`), "other tenants' schedulers stay");
});
