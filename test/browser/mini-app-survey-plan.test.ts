import test from 'ava';
import type { Browser, Route } from 'playwright-core';
import type { PlanContent } from '../../src/ai/plan-content.ts';
import { FAKE_PLAN } from '../fakes/fake-openai-server.ts';
import {
  checkScreen,
  countRequests,
  launchBrowser,
  launchUrl,
  miniAppInitData,
  openInTelegram,
  type TelegramPage,
} from '../helpers/browser.ts';
import { authHeader, initDataFor } from '../helpers/init-data.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The Mini App in a real browser inside a fake Telegram client, against the real system: the
 * survey, the plan being written (and what its polling does when the server refuses or fails),
 * the plan week by week, a failed plan, and Russian. Screens are photographed
 * (docs/screenshots/mini-app-*.png) and checked with axe in both themes. Billing and check-ins are
 * in mini-app-billing-checkins.test.ts; the page outside Telegram in web-pages.test.ts.
 */
const ANN = { id: 930001, first_name: 'Ann', language_code: 'en' };
let system: TestSystem;
let browser: Browser;

const TWO_WEEKS: PlanContent = {
  ...FAKE_PLAN,
  weeks: [
    FAKE_PLAN.weeks[0]!,
    {
      week: 2,
      focus: 'Add load',
      days: [
        {
          ...FAKE_PLAN.weeks[0]!.days[0]!,
          title: 'Full body B',
          exercises: [{ name: 'Romanian deadlift', sets: 3, reps: '8-10', restSeconds: 90, notes: null }],
        },
      ],
    },
  ],
};

test.before(async () => {
  [system, browser] = await Promise.all([
    startTestSystem({ openai: true, env: { AI_TIMEOUT_MS: '30000' } }),
    launchBrowser(),
  ]);
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

async function open(user: { id: number; first_name: string; language_code: string }): Promise<TelegramPage> {
  const url = launchUrl(system.baseUrl, '/app/', { initData: miniAppInitData(user) });
  return openInTelegram(browser, url);
}

async function mainButtonTexts(tg: TelegramPage): Promise<string[]> {
  return (await tg.events())
    .filter((e) => e.name === 'web_app_setup_main_button')
    .map((e) => (e.data as { text?: string }).text ?? '');
}

/** Console lines a browser writes for an error answer the test asked for; not a page problem. */
function unexpected(problems: string[], status: number): string[] {
  return problems.filter((line) => !line.includes(`status of ${status}`));
}

/**
 * Opens the app for `user` with its plan looking unfinished: GET /api/me goes to the real server
 * (auth and initData expiry included) and only the latest plan's status (and age) is rewritten,
 * as a plan stuck in the queue would look; `fail(call)` answers a call with an error status
 * instead. Returns when each call came (ms), to see how often the page asks.
 */
async function openWithPlanPending(
  user: { id: number; first_name: string; language_code: string },
  options: { initData?: string; createdAgoMs?: number; fail?: (call: number) => number | undefined },
): Promise<{ tg: TelegramPage; calls: number[] }> {
  const tg = await openInTelegram(browser, 'about:blank');
  const calls: number[] = [];
  await tg.page.route('**/api/me', async (route: Route) => {
    calls.push(Date.now());
    const status = options.fail?.(calls.length);
    if (status) {
      await route.fulfill({ status, json: { error: { code: 'unavailable', message: 'Try later.' } } });
      return;
    }
    const response = await route.fetch();
    if (!response.ok()) return route.fulfill({ response });
    const me = await response.json();
    const createdAt = new Date(Date.now() - (options.createdAgoMs ?? 0)).toISOString();
    me.latestPlan = { ...me.latestPlan, status: 'generating', createdAt };
    await route.fulfill({ response, json: me });
  });
  await tg.page.goto(
    launchUrl(system.baseUrl, '/app/', { initData: options.initData ?? miniAppInitData(user) }),
  );
  return { tg, calls };
}

test.serial(
  'a client fills the survey by keyboard, watches the plan being written, reads it week by week',
  async (t) => {
    system.openai!.enqueue({ kind: 'slow', delayMs: 9000, andThen: { kind: 'ok', content: TWO_WEEKS } });
    const tg = await open(ANN);
    const { page } = tg;
    await page.getByRole('heading', { name: 'Hi, Ann!' }).waitFor();
    await page.getByText('Answer a short survey').waitFor();
    await checkScreen(t, tg, 'mini-app-home');
    t.true((await mainButtonTexts(tg)).includes('Fill in the survey'));

    // Telegram's main button mirrors the screen's primary action.
    await tg.send('main_button_pressed');
    await page.getByRole('heading', { name: 'About you' }).waitFor();
    const surveys = countRequests(page, 'POST', '/api/surveys');

    // Nothing filled in, and an age out of range: every problem is shown and nothing is sent.
    await page.getByLabel('Age, years').fill('200');
    await page.getByRole('button', { name: 'Get my plan' }).click();
    await page.getByText('Enter a number from 14 to 90.').waitFor();
    t.is(await page.getByText('Choose one.').count(), 4);
    t.is(await page.getByText('Please fill this in.').count(), 4);
    await page.getByText('Choose at least one.').waitFor();
    t.is(await page.getByLabel('Age, years').getAttribute('aria-invalid'), 'true');
    t.is(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'goal');
    await checkScreen(t, tg, 'mini-app-survey');
    t.is(surveys.count, 0, 'an invalid survey is not sent');
    t.true((await tg.events()).some((e) => e.name === 'web_app_trigger_haptic_feedback'));

    // The keyboard: Space ticks the focused radio button or checkbox; labelled fields are typed into.
    for (const [label, exact] of [
      ['Build muscle', false],
      ['Female', true],
      ['Moderately active', false],
      ['Beginner', false],
      ['Dumbbells', false],
      ['Kettlebell', false],
    ] as const) {
      await page.getByLabel(label, { exact }).focus();
      await page.keyboard.press('Space');
    }
    for (const [label, value] of [
      ['Age, years', '30'],
      ['Height, cm', '168'],
      ['Weight, kg', '60,5'],
      ['Training days per week', '3'],
      ['Minutes per session', '45'],
      ['Injuries or health limits', 'Old knee injury'],
    ]) {
      await page.getByLabel(label!).fill('');
      await page.getByLabel(label!).pressSequentially(value!);
    }
    await page.evaluate(() => {
      (window as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    await page.getByLabel('Minutes per session').press('Enter');

    await page.getByRole('heading', { name: 'Your plan' }).waitFor();
    await page.getByText(/Your plan is (in the queue|being written)/).waitFor();
    t.is(surveys.count, 1);
    await page.getByText('Your plan is being written…').waitFor();
    await checkScreen(t, tg, 'mini-app-generating');

    // Polled, not reloaded: the plan replaces the status on the same page.
    await page.getByRole('heading', { name: 'Week 1: Learn the movements' }).waitFor({ timeout: 20_000 });
    t.true(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true));
    await page.getByText('Goblet squat').waitFor();
    await page.getByRole('button', { name: 'Week 2' }).click();
    await page.getByRole('heading', { name: 'Week 2: Add load' }).waitFor();
    await page.getByText('Romanian deadlift').waitFor();
    await page.getByRole('button', { name: 'Week 1' }).click();
    await checkScreen(t, tg, 'mini-app-plan');
    const haptics = (await tg.events()).filter((e) => e.name === 'web_app_trigger_haptic_feedback');
    t.true(haptics.some((e) => (e.data as { notification_type?: string }).notification_type === 'success'));

    // Telegram's back button goes back to the home screen, which now says the plan is ready.
    const back = (await tg.events()).filter((e) => e.name === 'web_app_setup_back_button');
    t.like(back.at(-1)?.data, { is_visible: true });
    await tg.send('back_button_pressed');
    await page.getByText('Your personal plan is ready.').waitFor();
    const answers = system.openai!.requests.at(-1)!.body as { messages: { content: string }[] };
    t.regex(JSON.stringify(answers.messages), /Old knee injury/);
    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);

test.serial('a failed generation says so and offers the survey again', async (t) => {
  const user = { id: 930002, first_name: 'Bob', language_code: 'en' };
  system.openai!.enqueue({ kind: 'refusal' });
  const { plan } = await system.submitSurvey(user.id, { first_name: user.first_name });
  await waitFor('the plan to fail', async () => {
    const response = await system.request(`/api/plans/${plan.id}`, { auth: authHeader(user) });
    return (await response.json()).status === 'failed';
  });
  const tg = await open(user);
  const { page } = tg;
  await page.getByText('We could not prepare your last plan.').waitFor();
  t.true((await mainButtonTexts(tg)).includes('Fill in the survey again'));
  await page.getByRole('button', { name: 'My plans' }).click();
  await page.getByRole('button', { name: /Failed/ }).click();
  await page.getByText('We could not prepare your plan.').waitFor();
  await page.getByText(/write to your coach/).waitFor();
  await tg.send('main_button_pressed');
  await page.getByRole('heading', { name: 'About you' }).waitFor();
  t.deepEqual(tg.problems, []);
  await tg.close();
});

test.serial('a Russian user sees the Mini App in Russian', async (t) => {
  const tg = await open({ id: 930003, first_name: 'Борис', language_code: 'ru' });
  const { page } = tg;
  await page.getByRole('heading', { name: 'Привет, Борис!' }).waitFor();
  t.is(await page.evaluate(() => document.documentElement.lang), 'ru');
  await page.getByRole('button', { name: 'Заполнить анкету' }).click();
  await page.getByRole('heading', { name: 'О вас' }).waitFor();
  await page.getByLabel('Возраст, лет').fill('12');
  await page.getByRole('button', { name: 'Получить план' }).click();
  await page.getByText('Введите число от 14 до 90.').waitFor();
  await page.getByText('Исправьте отмеченные поля.').waitFor();
  t.true((await mainButtonTexts(tg)).includes('Получить план'));
  t.deepEqual(tg.problems, []);
  await tg.close();
});

test.serial(
  'when initData expires while a plan is awaited, polling stops and says to reopen the app',
  async (t) => {
    const user = { id: 930004, first_name: 'Eve', language_code: 'en' };
    await system.submitSurvey(user.id, { first_name: user.first_name });
    // Signed as if Telegram had opened the app almost a day ago (INITDATA_MAX_AGE_SECONDS is 24 h):
    // the first GET /api/me passes, a poll a few seconds later gets the real 401.
    const authDate = Math.floor(Date.now() / 1000) - 86_400 + 5;
    const signature = Buffer.alloc(64, String(user.id)).toString('base64url');
    const initData = initDataFor(user, { authDate, extra: { signature } });
    const { tg, calls } = await openWithPlanPending(user, { initData });
    const { page } = tg;
    await page.getByText('Your plan is being prepared. It usually takes a minute.').waitFor();
    await page
      .getByText('This session has expired. Reopen the app from the bot.')
      .waitFor({ timeout: 20_000 });
    const stoppedAt = calls.length;
    t.true(stoppedAt >= 2, 'the page had polled before the 401');
    await page.waitForTimeout(5000);
    t.is(calls.length, stoppedAt, 'no request after the 401: the same initData would get it again');
    t.is(await page.getByText('Your plan is being prepared').count(), 0, 'no endless spinner');
    t.deepEqual(unexpected(tg.problems, 401), []);
    await tg.close();
  },
);

test.serial('a failing server is polled less and less often (2 s, then 4 s, then 8 s)', async (t) => {
  const user = { id: 930005, first_name: 'Fay', language_code: 'en' };
  await system.submitSurvey(user.id, { first_name: user.first_name });
  const { tg, calls } = await openWithPlanPending(user, { fail: (call) => (call > 1 ? 503 : undefined) });
  await tg.page.getByText('Your plan is being prepared. It usually takes a minute.').waitFor();
  await waitFor('two failed polls', () => calls.length >= 3, 15_000);
  const gaps = calls.slice(1).map((at, i) => at - calls[i]!);
  t.true(gaps[0]! >= 1500 && gaps[0]! < 3500, `first poll after ~2 s: ${gaps}`);
  t.true(gaps[1]! >= 3500, `then ~4 s after a 503: ${gaps}`);
  await tg.page.waitForTimeout(5000);
  t.is(calls.length, 3, 'the next poll waits ~8 s');
  // The last good state stays on screen: a 5xx is not the user's problem to solve.
  await tg.page.getByText('Your plan is being prepared. It usually takes a minute.').waitFor();
  t.deepEqual(unexpected(tg.problems, 503), []);
  await tg.close();
});

test.serial('a plan still not ready after ten minutes gets a calm note and slower polling', async (t) => {
  const user = { id: 930006, first_name: 'Gus', language_code: 'en' };
  await system.submitSurvey(user.id, { first_name: user.first_name });
  const { tg, calls } = await openWithPlanPending(user, { createdAgoMs: 11 * 60_000 });
  await tg.page.getByText(/taking longer than usual.*the bot will message you/).waitFor();
  await tg.page.waitForTimeout(4000);
  t.is(calls.length, 1, 'no poll every 2 s any more (every 30 s)');
  t.deepEqual(tg.problems, []);
  await tg.close();
});
