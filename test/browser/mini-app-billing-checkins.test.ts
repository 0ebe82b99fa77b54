import test from 'ava';
import type { Browser } from 'playwright-core';
import { signedLaunchUrl } from '../../src/telegram/launch-link.ts';
import {
  checkScreen,
  countRequests,
  launchBrowser,
  launchUrl,
  miniAppInitData,
  openInBrowser,
  openInTelegram,
  type TelegramPage,
} from '../helpers/browser.ts';
import { authHeader, TEST_BOT_TOKEN } from '../helpers/init-data.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * The Mini App in a real browser against the real system (offline AI: plans are ready at once):
 * earlier plans, check-ins and their "Show more", and paying with Stars inside the fake Telegram
 * client, in a plain browser (the local launch link) and when Telegram never answers.
 * Screens are photographed (docs/screenshots/mini-app-*.png) and checked with axe in both themes.
 */
const OWNER = 930000;
const ANN = { id: 930001, first_name: 'Ann', language_code: 'en' };
const SECRET = 'mini-app-webhook-secret';
let system: TestSystem;
let browser: Browser;

test.before(async () => {
  [system, browser] = await Promise.all([
    startTestSystem({
      env: {
        TELEGRAM_ADMINS: String(OWNER),
        TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
        TELEGRAM_WEBHOOK_SECRET: SECRET,
      },
    }),
    launchBrowser(),
  ]);
  system.telegram.deliverUpdatesTo(`${system.baseUrl}/telegram/webhook`, SECRET);
  // A plan on sale: the home screen links to the subscription only when there is one.
  const created = await system.request('/api/panel/subscription-plans', {
    method: 'POST',
    auth: authHeader({ id: OWNER }),
    body: JSON.stringify({ title: 'Coaching Pro', priceStars: 250, description: 'Weekly plan updates' }),
  });
  if (created.status !== 201) throw new Error(`plan not created: ${created.status}`);
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

async function open(user: { id: number; first_name: string; language_code: string }): Promise<TelegramPage> {
  const url = launchUrl(system.baseUrl, '/app/', { initData: miniAppInitData(user) });
  return openInTelegram(browser, url);
}

/** Waits until every plan of the user is ready (the offline AI takes a moment). */
async function plansReady(user: { id: number }, count: number) {
  await waitFor('the plans to be ready', async () => {
    const response = await system.request('/api/plans', { auth: authHeader(user) });
    const items = (await response.json()).items as { status: string }[];
    return items.length === count && items.every((item) => item.status === 'ready');
  });
}

test.serial('earlier plans open from the list; a check-in is recorded and listed', async (t) => {
  await system.submitSurvey(ANN.id, { first_name: ANN.first_name });
  await plansReady(ANN, 1);
  await system.submitSurvey(ANN.id, { first_name: ANN.first_name });
  await plansReady(ANN, 2);
  const tg = await open(ANN);
  const { page } = tg;
  await page.getByRole('button', { name: 'My plans' }).click();
  await page.getByRole('heading', { name: 'My plans' }).waitFor();
  const rows = page.getByRole('list').getByRole('button');
  await page.waitForFunction(() => document.querySelectorAll('.nav-list li').length === 2);
  t.is(await rows.count(), 2);
  await checkScreen(t, tg, 'mini-app-plans');
  await rows.nth(1).click();
  await page.getByRole('heading', { name: /^Week 1: / }).waitFor();
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

test.serial('check-ins are listed 20 at a time; "Show more" pages on with the API’s cursor', async (t) => {
  const user = { id: 930010, first_name: 'Cy', language_code: 'en' };
  for (let n = 1; n <= 23; n += 1) {
    const response = await system.request('/api/test-results', {
      method: 'POST',
      auth: authHeader(user),
      body: JSON.stringify({ kind: 'check_in', results: { pushUps: n } }),
    });
    t.is(response.status, 201);
  }
  const tg = await open(user);
  const { page } = tg;
  await page.getByRole('button', { name: 'Check-ins' }).click();
  const entries = page.locator('.entries li');
  await page.getByText('Push-ups: 23', { exact: true }).waitFor();
  t.is(await entries.count(), 20);
  const pages = tg.page.waitForRequest((r) => new URL(r.url()).searchParams.has('cursor'));
  await page.getByRole('button', { name: 'Show more' }).click();
  t.regex((await pages).url(), /\/api\/test-results\?limit=20&cursor=/);
  await page.getByText('Push-ups: 1', { exact: true }).waitFor();
  t.is(await entries.count(), 23);
  const texts = await entries.locator('div:nth-child(2)').allTextContents();
  t.deepEqual(
    texts,
    Array.from({ length: 23 }, (_, i) => `Push-ups: ${23 - i}`),
    'newest first, none twice',
  );
  t.is(await page.getByRole('button', { name: 'Show more' }).count(), 0, 'the last page has no cursor');
  t.deepEqual(tg.problems, []);
  await tg.close();
});

test.serial(
  'paying in Stars: Telegram opens the invoice; a cancelled payment says so; a paid one shows the active subscription',
  async (t) => {
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

test.serial(
  'in a plain browser (the local launch link) Subscribe says payments need the Telegram app',
  async (t) => {
    const user = { id: 930011, first_name: 'Lee', language_code: 'en' };
    const tab = await openInBrowser(browser, 'about:blank', { viewport: 'phone' });
    const { page } = tab;
    const invoices = countRequests(page, 'POST', '/api/subscriptions');
    await page.goto(signedLaunchUrl(`${system.baseUrl}/app/`, TEST_BOT_TOKEN, user));
    await page.getByRole('button', { name: 'Subscription' }).click();
    const subscribe = page.getByRole('button', { name: 'Subscribe for 250 Stars' });
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      await subscribe.click();
      await page
        .getByText('Payments need the Telegram app. Open this page from the bot in Telegram.')
        .waitFor();
      t.true(await subscribe.isEnabled(), `attempt ${attempt}: the button works again`);
    }
    t.is(invoices.count, 0, 'no invoice is created that nobody could pay here');
    t.deepEqual(tab.problems, []);
    await tab.close();
  },
);

test.serial(
  'when Telegram never says how the payment sheet closed, the page stops waiting after 10 minutes',
  async (t) => {
    const user = { id: 930012, first_name: 'Max', language_code: 'en' };
    const tg = await open(user);
    const { page } = tg;
    // The page's clock, fast-forwarded below; it runs at normal speed until then.
    await page.clock.install();
    await page.reload();
    await page.getByRole('button', { name: 'Subscription' }).click();
    const subscribe = page.getByRole('button', { name: 'Subscribe for 250 Stars' });
    await subscribe.click();
    await page.waitForFunction(() =>
      (window as unknown as { __telegramEvents: { name: string }[] }).__telegramEvents.some(
        (e) => e.name === 'web_app_open_invoice',
      ),
    );
    await page.getByText('Opening the payment…').waitFor();
    t.false(await subscribe.isEnabled(), 'busy while the payment sheet is open');
    await page.clock.fastForward('10:01');
    await page.getByText(/Telegram did not tell us how the payment ended/).waitFor();
    t.true(await subscribe.isEnabled());
    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);
