import test from 'ava';
import { planContentSchema } from '../src/ai/plan-content.ts';
import { Application, Notification, Outbox, PersonalPlan, Survey } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { jobIdOf } from '../src/queue/outbox-writer.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';
import { waitFor } from './helpers/wait-for.ts';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem();
});
test.after.always(async () => {
  await system?.stop();
});

async function submit(auth: string, answers: object = validAnswers) {
  return system.request('/api/surveys', { method: 'POST', auth, body: JSON.stringify({ answers }) });
}

test.serial('survey → offline plan → Telegram message with a Mini App button', async (t) => {
  const auth = authHeader({ id: 5001, first_name: 'Anna', language_code: 'en' });
  const response = await submit(auth);
  t.is(response.status, 202);
  const body = await response.json();
  t.is(body.plan.status, 'queued');
  t.truthy(body.surveyId && body.applicationId && body.plan.id);

  const ready = await waitFor('plan ready', async () => {
    const plan = await (await system.request(`/api/plans/${body.plan.id}`, { auth })).json();
    return plan.status === 'ready' ? plan : null;
  });
  t.true(planContentSchema.safeParse(ready.content).success);
  t.is(ready.content.weeks[0].days.length, validAnswers.daysPerWeek);
  t.truthy(ready.readyAt);

  const message = await waitFor('message sent', () =>
    system.telegram.sentMessages.find((m) => m.chatId === '5001'),
  );
  t.regex(message.text, /Anna, your personal training plan is ready/);
  t.deepEqual(message.replyMarkup, {
    inline_keyboard: [[{ text: 'Open my plan', web_app: { url: 'https://coach.example/app' } }]],
  });
  const notification = await waitFor('notification stored as sent', async () => {
    const row = await system.em().findOne(Notification, { dedupeKey: `plan_ready:${body.plan.id}` });
    return row?.status === 'sent' ? row : null;
  });
  t.is(notification.telegramMessageId, String(message.messageId));

  const latest = await (await system.request('/api/plans/latest', { auth })).json();
  t.is(latest.id, body.plan.id);
  const me = await (await system.request('/api/me', { auth })).json();
  t.is(me.telegramId, '5001');
  t.is(me.latestPlan.id, body.plan.id);
  t.is(me.latestPlan.status, 'ready');
});

test.serial('the survey, application, plan and outbox rows are written together', async (t) => {
  const auth = authHeader({ id: 5002 });
  const body = await (await submit(auth)).json();
  const em = system.em();
  t.truthy(await em.findOne(Survey, { id: body.surveyId }));
  const application = await em.findOne(Application, { id: body.applicationId });
  t.is(application?.status, 'new');
  t.is(application?.surveyId, body.surveyId);
  const plan = await em.findOne(PersonalPlan, { id: body.plan.id });
  t.is(plan?.surveyId, body.surveyId);
  t.truthy(
    await em.findOne(Outbox, {
      jobId: jobIdOf('plans.generate', { tenantId: DEFAULT_TENANT_ID, planId: body.plan.id }),
    }),
  );
});

test.serial('a Russian-speaking client gets the message in Russian', async (t) => {
  const auth = authHeader({ id: 5003, first_name: 'Иван', language_code: 'ru' });
  await submit(auth);
  const message = await waitFor('message sent', () =>
    system.telegram.sentMessages.find((m) => m.chatId === '5003'),
  );
  t.regex(message.text, /Иван, ваш персональный план тренировок готов/);
});

test.serial(
  'a client who blocked the bot: plan still ready, notification failed without retries',
  async (t) => {
    system.telegram.blockChat('5004');
    const auth = authHeader({ id: 5004 });
    const body = await (await submit(auth)).json();
    const notification = await waitFor('notification failed', async () => {
      const row = await system.em().findOne(Notification, { dedupeKey: `plan_ready:${body.plan.id}` });
      return row?.status === 'failed' ? row : null;
    });
    t.is(notification.error, 'user_blocked_bot');
    t.is(notification.attempts, 1);
    const plan = await (await system.request(`/api/plans/${body.plan.id}`, { auth })).json();
    t.is(plan.status, 'ready');
  },
);
