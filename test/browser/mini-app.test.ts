import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import type { PlanContent } from '../../src/ai/plan-content.ts';
import { FAKE_PLAN } from '../fakes/fake-openai-server.ts';
import {
  captureScreens,
  launchBrowser,
  launchUrl,
  miniAppInitData,
  openInTelegram,
  seriousA11yViolationsInBothThemes,
  type TelegramPage,
} from '../helpers/browser.ts';
import { authHeader } from '../helpers/init-data.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The Mini App in a real browser inside a fake Telegram client, against the real system: survey,
 * plan being written, the plan week by week, earlier plans, check-ins and paying with Stars.
 * Every screen is photographed (docs/screenshots/mini-app-*.png) and checked with axe in both themes.
 */
const OWNER = 930000;
const ANN = { id: 930001, first_name: 'Ann', language_code: 'en' };
const SECRET = 'mini-app-webhook-secret';
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
    startTestSystem({
      openai: true,
      env: {
        TELEGRAM_ADMINS: String(OWNER),
        TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
        TELEGRAM_WEBHOOK_SECRET: SECRET,
        AI_TIMEOUT_MS: '30000',
      },
    }),
    launchBrowser(),
  ]);
  system.telegram.deliverUpdatesTo(`${system.baseUrl}/telegram/webhook`, SECRET);
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

async function open(user: { id: number; first_name: string; language_code: string }): Promise<TelegramPage> {
  const url = launchUrl(system.baseUrl, '/app/', { initData: miniAppInitData(user) });
  return openInTelegram(browser, url);
}

/** Screenshots in both themes and viewports, and no serious axe violation in either theme. */
async function checkScreen(t: ExecutionContext, tg: TelegramPage, name: string) {
  await captureScreens(tg, name, { theme: 'light', viewport: 'phone' });
  const violations = await seriousA11yViolationsInBothThemes(tg, 'light');
  t.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 1)}`);
}

async function mainButtonTexts(tg: TelegramPage): Promise<string[]> {
  return (await tg.events())
    .filter((e) => e.name === 'web_app_setup_main_button')
    .map((e) => (e.data as { text?: string }).text ?? '');
}

/** Every request the page makes to `path` with `method`, to prove what was (not) sent. */
function countRequests(page: Page, method: string, path: string): { count: number } {
  const seen = { count: 0 };
  page.on('request', (request) => {
    if (request.method() === method && new URL(request.url()).pathname === path) seen.count += 1;
  });
  return seen;
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

test.serial('earlier plans open from the list; a check-in is recorded and listed', async (t) => {
  await system.submitSurvey(ANN.id, { first_name: ANN.first_name });
  const tg = await open(ANN);
  const { page } = tg;
  await page.getByRole('button', { name: 'My plans' }).click();
  await page.getByRole('heading', { name: 'My plans' }).waitFor();
  const rows = page.getByRole('list').getByRole('button');
  await page.waitForFunction(() => document.querySelectorAll('.nav-list li').length === 2);
  t.is(await rows.count(), 2);
  await checkScreen(t, tg, 'mini-app-plans');
  await rows.nth(1).click();
  await page.getByRole('heading', { name: 'Week 1: Learn the movements' }).waitFor();
  await tg.send('back_button_pressed');
  await tg.send('back_button_pressed');
  await page.getByRole('heading', { name: 'Hi, Ann!' }).waitFor();
  await page.getByText('Your personal plan is ready.').waitFor();
  await checkScreen(t, tg, 'mini-app-home-ready');

  await page.getByRole('button', { name: 'Check-ins' }).click();
  await page.getByRole('heading', { name: 'Check-ins', level: 1 }).waitFor();
  await page.getByText('No entries yet.').waitFor();
  const posts = countRequests(page, 'POST', '/api/test-results');
  await page.getByLabel('Energy, 1–10').fill('11');
  await tg.send('main_button_pressed');
  await page.getByText('Enter a number from 1 to 10.').waitFor();
  t.is(posts.count, 0);
  await page.getByLabel('Energy, 1–10').fill('7');
  await page.getByLabel('Weight, kg').fill('61.5');
  await page.getByLabel('Notes').fill('Felt strong');
  await tg.send('main_button_pressed');
  await page.getByText('Saved.').waitFor();
  t.is(posts.count, 1);
  await page.getByText('Weight, kg: 61.5 · Energy, 1–10: 7').waitFor();
  await checkScreen(t, tg, 'mini-app-check-ins');

  const listed = await system.request('/api/test-results', { auth: authHeader(ANN) });
  t.like((await listed.json()).items[0], { kind: 'check_in', results: { weightKg: 61.5, energy: 7 } });
  t.deepEqual(tg.problems, []);
  await tg.close();
});

test.serial(
  'paying in Stars: Telegram opens the invoice; a cancelled payment says so; a paid one shows the active subscription',
  async (t) => {
    const created = await system.request('/api/panel/subscription-plans', {
      method: 'POST',
      auth: authHeader({ id: OWNER }),
      body: JSON.stringify({ title: 'Coaching Pro', priceStars: 250, description: 'Weekly plan updates' }),
    });
    t.is(created.status, 201);
    const tg = await open(ANN);
    const { page } = tg;
    await page.getByRole('button', { name: 'Subscription' }).click();
    await page.getByRole('heading', { name: 'Subscription', level: 1 }).waitFor();
    await page.getByText('You have no subscription yet.').waitFor();
    await page.getByLabel(/Coaching Pro/).waitFor();
    await checkScreen(t, tg, 'mini-app-subscription');

    const invoiceOpened = async (count: number) => {
      await page.waitForFunction(
        (n) =>
          (window as unknown as { __telegramEvents: { name: string }[] }).__telegramEvents.filter(
            (e) => e.name === 'web_app_open_invoice',
          ).length === n,
        count,
      );
      const events = (await tg.events()).filter((e) => e.name === 'web_app_open_invoice');
      return (events.at(-1)!.data as { slug: string }).slug;
    };

    await page.getByRole('button', { name: 'Subscribe for 250 Stars' }).click();
    const first = await invoiceOpened(1);
    await tg.send('invoice_closed', { slug: first, status: 'cancelled' });
    await page.getByText('The payment was cancelled. Nothing was charged.').waitFor();

    await tg.send('main_button_pressed');
    const slug = await invoiceOpened(2);
    const invoice = system.telegram.payments.invoices.at(-1)!;
    t.is(invoice.link, `https://t.me/$${slug}`);
    t.like(invoice, { currency: 'XTR', amount: 250 });
    const { answer } = await system.telegram.payments.openInvoice(invoice.link, ANN);
    t.true(answer.ok);
    await system.telegram.payments.waitForDeliveries();
    await tg.send('invoice_closed', { slug, status: 'paid' });
    await page.getByText('Thank you! Your subscription is active.').waitFor();
    await page.getByText(/^Paid until \d+ \w+ \d{4}\.$/).waitFor();
    await page.getByText('Coaching Pro', { exact: true }).waitFor();
    await page.getByText('Renews automatically every 30 days.').waitFor();
    t.is(await page.getByRole('button', { name: /Subscribe for/ }).count(), 0);
    await checkScreen(t, tg, 'mini-app-subscription-active');
    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);

test.serial('outside Telegram the page says to open it there, in the browser’s language', async (t) => {
  const context = await browser.newContext({ locale: 'ru-RU' });
  const page = await context.newPage();
  await page.goto(`${system.baseUrl}/app/`);
  await page.getByRole('heading', { name: 'Откройте это в Telegram' }).waitFor();
  await context.close();
  t.pass();
});
