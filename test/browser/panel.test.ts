import test from 'ava';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { Application, TelegramUser } from '../../src/db/entities/index.ts';
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
import { seedApplicant, seedSubscription, seedUsers } from '../helpers/seed.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * The trainer panel opened from Telegram as a Mini App: an owner sees every screen, an
 * application submitted while the page is open appears live, a broadcast's progress bar runs to
 * the end; a support admin is not offered what their role may not do. Every screen is
 * screenshotted (docs/panel-pages.md) and checked with axe in both themes.
 */

const OWNER = 830001;
const SUPPORT = 830002;
const TRAINER = 830003;
let system: TestSystem;
let browser: Browser;

test.before(async () => {
  [system, browser] = await Promise.all([
    startTestSystem({
      env: {
        TELEGRAM_ADMINS: String(OWNER),
        TELEGRAM_MESSAGES_PER_SECOND: '200',
        METRICS_INTERVAL_MS: '2000',
      },
      telegramLimits: { globalPerSecond: 1000 },
    }),
    launchBrowser(),
  ]);
  await seed();
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

const owner = authHeader({ id: OWNER, first_name: 'Olga' });

/** Enough of a coach's world for the screens to show something real. */
async function seed() {
  const em = system.em();
  await seedUsers(em, [SUPPORT], { role: 'support' });
  await seedUsers(em, [TRAINER], { role: 'trainer' });
  const clients = await seedUsers(em, [831001, 831002, 831003], { isClient: true, languageCode: 'en' });
  const names: [string, string | undefined, string | undefined][] = [
    ['Maria', 'Ivanova', 'maria_lifts'],
    ['Tom', undefined, 'tom_runs'],
    ['Lena', 'Schmidt', undefined],
  ];
  clients.forEach((client, i) => {
    const [firstName, lastName, username] = names[i]!;
    Object.assign(client, { firstName, lastName, username });
  });
  const trainer = await em.findOneOrFail(TelegramUser, { telegramId: String(TRAINER) });
  Object.assign(trainer, { firstName: 'Ivan', username: 'ivan_trainer' });
  seedSubscription(em, clients[0]!, { planTitle: 'Monthly coaching' });
  seedSubscription(em, clients[1]!, {
    planTitle: 'Premium',
    status: 'cancelled',
    renews: false,
    price: 1500,
  });
  await em.flush();
  for (const [id, first_name, username] of [
    [832001, 'Anna', 'anna_fit'],
    [832002, 'Boris', undefined],
  ] as const)
    await system.submitSurvey(id, { first_name, ...(username ? { username } : {}) });
  for (const plan of [
    {
      title: 'Monthly coaching',
      description: 'A plan updated every week and chat with the coach',
      priceStars: 500,
    },
    { title: 'Premium', description: 'Everything in Monthly plus a video call every week', priceStars: 1500 },
  ]) {
    const response = await system.request('/api/panel/subscription-plans', {
      method: 'POST',
      auth: owner,
      body: JSON.stringify(plan),
    });
    if (response.status !== 201) throw new Error(`plan not created: ${response.status}`);
  }
}

async function openPanel(telegramId: number, firstName: string): Promise<TelegramPage> {
  const url = launchUrl(system.baseUrl, '/panel/', {
    initData: miniAppInitData({ id: telegramId, first_name: firstName }),
  });
  const tg = await openInTelegram(browser, url);
  await tg.page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
  return tg;
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Panel sections' });

async function go(page: Page, tab: string) {
  await nav(page).getByRole('button', { name: tab, exact: true }).click();
  await page.getByRole('heading', { name: tab, level: 2 }).waitFor();
}

/** Screenshots in both themes and viewports, then axe in both themes: no serious violation. */
async function screenAndAxe(t: import('ava').ExecutionContext, tg: TelegramPage, name: string) {
  await captureScreens(tg, name, { theme: 'light', viewport: 'phone' });
  const violations = await seriousA11yViolationsInBothThemes(tg, 'light');
  t.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 1)}`);
}

test.serial(
  'an owner in the Mini App sees a new application arrive live, accepts it, and broadcasts with a progress bar',
  async (t) => {
    const tg = await openPanel(OWNER, 'Olga');
    const { page } = tg;
    await page.locator('[data-live-status="live"]').waitFor();
    await page.getByText('Anna').first().waitFor();
    // Every screen an owner may use is offered.
    for (const tab of [
      'Applications',
      'Clients',
      'Metrics',
      'Broadcasts',
      'Subscription plans',
      'Admins and roles',
      'Audit log',
    ])
      t.true(await nav(page).getByRole('button', { name: tab, exact: true }).isVisible(), tab);

    // A survey submitted while the page is open shows up without a reload.
    await page.evaluate('window.__notReloaded = true');
    const { applicationId } = await system.submitSurvey(833001, { first_name: 'Zoe', username: 'zoe_runs' });
    const card = page.locator(`li[data-application-id="${applicationId}"]`);
    await card.waitFor({ timeout: 10_000 });
    t.true(await card.getByText('Just arrived').isVisible());
    t.is(await page.evaluate('window.__notReloaded'), true);

    // Accept, with a confirmation first.
    await card.getByRole('button', { name: 'Accept', exact: true }).click();
    await card.getByText('Accept Zoe as a client?').waitFor();
    await card.getByRole('button', { name: 'Confirm: Accept' }).click();
    await card.getByText('Accepted', { exact: true }).waitFor();
    const decided = await system.em().findOneOrFail(Application, { id: applicationId });
    t.is(decided.status, 'accepted');
    await screenAndAxe(t, tg, 'panel-applications');

    await go(page, 'Clients');
    await page.getByText('Maria Ivanova').waitFor();
    await page.getByText('Zoe').waitFor();
    t.true(await page.getByText('Monthly coaching').first().isVisible());
    await screenAndAxe(t, tg, 'panel-clients');

    // A broadcast to the clients, watched to the end.
    await go(page, 'Broadcasts');
    await page.getByLabel('Send to').selectOption('clients');
    await page.getByLabel('Message').fill('New programme starts on Monday. See you at training!');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm: Send' }).click();
    const bar = page.getByRole('progressbar');
    await bar.waitFor();
    await page.locator('[role="progressbar"][data-status="completed"]').waitFor({ timeout: 20_000 });
    const max = Number(await bar.getAttribute('aria-valuemax'));
    t.is(max, 4, 'three seeded clients and Zoe');
    t.is(Number(await bar.getAttribute('aria-valuenow')), max);
    t.true(await page.getByText('4 of 4 done').isVisible());
    await screenAndAxe(t, tg, 'panel-broadcasts');

    await go(page, 'Subscription plans');
    await page.getByText('Premium').first().waitFor();
    await page.getByLabel('Title').fill('Starter');
    await page.getByLabel('Description').fill('Your personal plan, updated monthly');
    await page.getByLabel('Price in Stars per 30 days').fill('250');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Starter' }).waitFor();
    const premium = page.locator('li.card', { has: page.getByRole('heading', { name: 'Premium' }) });
    await premium.getByRole('button', { name: 'Archive' }).click();
    await premium.getByRole('button', { name: 'Confirm: Archive' }).click();
    await premium.getByText('Archived', { exact: true }).waitFor();
    await screenAndAxe(t, tg, 'panel-plans');

    await go(page, 'Admins and roles');
    await page.getByText('Ivan').first().waitFor();
    await page.getByLabel('Telegram id').fill('834001');
    await page.getByLabel('Role', { exact: true }).selectOption('support');
    await page.getByRole('button', { name: 'Give role' }).click();
    await page.getByText('Telegram id: 834001').waitFor();
    await screenAndAxe(t, tg, 'panel-admins');
    // Change that role, then take it away (confirmed).
    const granted = page.locator('li.card', { has: page.getByRole('heading', { name: '834001' }) });
    await granted.getByLabel('Role of 834001').selectOption('trainer');
    await granted.getByRole('button', { name: 'Save' }).click();
    await granted.getByText('Trainer', { exact: true }).first().waitFor();
    t.is((await system.em().findOneOrFail(TelegramUser, { telegramId: '834001' })).role, 'trainer');
    await page
      .locator('li.card', { has: page.getByRole('heading', { name: '834001' }) })
      .getByRole('button', { name: 'Remove access' })
      .click();
    await page.getByRole('button', { name: 'Confirm: Remove access' }).click();
    await page.getByRole('heading', { name: '834001' }).waitFor({ state: 'detached' });
    t.is((await system.em().findOneOrFail(TelegramUser, { telegramId: '834001' })).role, null);

    await go(page, 'Audit log');
    await page.getByText('accepted an application').waitFor();
    t.true(await page.getByText('sent a broadcast').isVisible());
    await screenAndAxe(t, tg, 'panel-audit-log');

    await go(page, 'Metrics');
    await page.getByText(/^Computed /).waitFor({ timeout: 20_000 });
    await page.locator('.chart-canvas canvas').first().waitFor();
    t.true(await page.getByRole('heading', { name: 'Revenue' }).isVisible());
    await screenAndAxe(t, tg, 'panel-metrics');

    // Removing a client asks first, then the row goes.
    await go(page, 'Clients');
    const lena = page.locator('li.card', { has: page.getByRole('heading', { name: 'Lena Schmidt' }) });
    await lena.getByRole('button', { name: 'Remove' }).click();
    await lena.getByRole('button', { name: 'Confirm: Remove' }).click();
    await lena.waitFor({ state: 'detached' });
    const removed = await system.em().findOneOrFail(TelegramUser, { telegramId: '831003' });
    t.false(removed.isClient);

    // Telegram's back button leads to the first screen.
    const events = await tg.events();
    t.true(
      events.some(
        (e) => e.name === 'web_app_setup_back_button' && (e.data as { is_visible?: boolean })?.is_visible,
      ),
    );
    await tg.send('back_button_pressed');
    await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();

    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);

test.serial(
  'a support admin is not offered revenue, plans, clients, broadcasts or admin management',
  async (t) => {
    // The live socket goes through a route the test can cut, to see the panel reconnect.
    const tg = await openInTelegram(browser, `${system.baseUrl}/healthz`);
    const { page } = tg;
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/api\/panel\/ws$/, (ws) => {
      sockets.push(ws);
      ws.connectToServer();
    });
    await page.goto(
      launchUrl(system.baseUrl, '/panel/', { initData: miniAppInitData({ id: SUPPORT, first_name: 'Sam' }) }),
    );
    await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
    const tabs = await nav(page).getByRole('button').allTextContents();
    t.deepEqual(tabs, ['Applications', 'Metrics']);
    await page.getByText('Anna').first().waitFor();
    // Support may look at applications but not decide them.
    t.is(await page.getByRole('button', { name: 'Accept' }).count(), 0);
    t.is(await page.getByRole('button', { name: 'Reject' }).count(), 0);

    await go(page, 'Metrics');
    await page.getByText(/^Computed |being computed/).waitFor();
    t.is(await page.getByRole('heading', { name: 'Revenue' }).count(), 0);
    t.is(await page.getByText('Monthly recurring revenue').count(), 0);
    for (const path of [
      '/api/panel/subscription-plans',
      '/api/panel/admins',
      '/api/panel/audit-log',
      '/api/panel/clients',
    ])
      t.false(asked.includes(path), `the page asked for ${path}`);
    // The API agrees with what the page offers.
    const plans = await system.request('/api/panel/subscription-plans', {
      auth: authHeader({ id: SUPPORT }),
    });
    t.is(plans.status, 403);
    const metrics = await (
      await system.request('/api/panel/metrics', { auth: authHeader({ id: SUPPORT }) })
    ).json();
    t.false('revenue' in metrics && metrics.revenue !== undefined && metrics.revenue !== null);

    // The socket drops: the indicator says so, and the panel reconnects by itself.
    await page.locator('[data-live-status="live"]').waitFor();
    await sockets.at(-1)!.close({ code: 1011, reason: 'internal_error' });
    await page.locator('[data-live-status="reconnecting"]').waitFor();
    t.true(await page.getByRole('status').filter({ hasText: 'Reconnecting…' }).isVisible());
    await page.locator('[data-live-status="live"]').waitFor({ timeout: 10_000 });
    t.is(sockets.length, 2);
    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);

test.serial(
  'a trainer whose Telegram is in Russian gets the panel in Russian, without admin screens',
  async (t) => {
    const url = launchUrl(system.baseUrl, '/panel/', {
      initData: miniAppInitData({ id: TRAINER, first_name: 'Ivan', language_code: 'ru' }),
      theme: 'dark',
    });
    const tg = await openInTelegram(browser, url, { theme: 'dark' });
    const { page } = tg;
    await page.getByRole('heading', { name: 'Заявки', level: 2 }).waitFor();
    t.is(await page.evaluate('document.documentElement.lang'), 'ru');
    const nav = page.getByRole('navigation', { name: 'Разделы панели' });
    t.deepEqual(await nav.getByRole('button').allTextContents(), [
      'Заявки',
      'Клиенты',
      'Метрики',
      'Рассылки',
    ]);
    // A trainer decides applications.
    await page.getByRole('button', { name: 'Принять' }).first().waitFor();
    t.deepEqual(await seriousA11yViolationsInBothThemes(tg, 'dark'), []);

    // 20 at a time, then "Load more" with the API's cursor.
    const applicants = await seedUsers(
      system.em(),
      Array.from({ length: 25 }, (_, i) => 835000 + i),
    );
    for (const applicant of applicants) await seedApplicant(system.em(), applicant);
    const total = await system.em().count(Application, {});
    await page.reload();
    const cards = page.locator('li[data-application-id]');
    await cards.nth(19).waitFor();
    t.is(await cards.count(), 20);
    await page.getByRole('button', { name: 'Показать ещё' }).click();
    await cards.nth(total - 1).waitFor();
    t.is(await cards.count(), total);
    t.is(await page.getByRole('button', { name: 'Показать ещё' }).count(), 0);

    // The status filter asks the API for that status only.
    await page.getByLabel('Статус').selectOption('accepted');
    await page.getByText('Zoe').waitFor();
    await page.waitForFunction(() => document.querySelectorAll('li[data-application-id]').length === 1);

    // Keyboard: a navigation button activated with Enter moves focus to the new screen's heading.
    await nav.getByRole('button', { name: 'Клиенты' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Клиенты', level: 2 }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'screen-title');

    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);
