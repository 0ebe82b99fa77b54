import test from 'ava';
import type { Browser } from 'playwright-core';
import { Application, TelegramUser } from '../../src/db/entities/index.ts';
import { checkScreen, launchBrowser } from '../helpers/browser.ts';
import { authHeader } from '../helpers/init-data.ts';
import { goToSection, openPanelInTelegram, panelNav } from '../helpers/panel-page.ts';
import { seedSubscription, seedUsers } from '../helpers/seed.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * The trainer panel opened from Telegram as a Mini App, as an owner: every screen is offered, an
 * application submitted while the page is open appears live, a broadcast's progress bar runs to
 * the end (and survives a tab switch and a reload). Every screen is screenshotted
 * (docs/panel-pages.md) and checked with axe in both themes. Other roles, role changes and live
 * lists: panel-roles.test.ts.
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

const openPanel = (telegramId: number, firstName: string) =>
  openPanelInTelegram(browser, system.baseUrl, telegramId, firstName);

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
      t.true(await panelNav(page).getByRole('button', { name: tab, exact: true }).isVisible(), tab);

    // Telegram's back button: shown once when leaving the first screen, untouched between other
    // screens, hidden once on the way back (each show or hide is one postEvent; more is flicker).
    const backButtonEvents = async () =>
      (await tg.events()).filter((e) => e.name === 'web_app_setup_back_button').length;
    let before = await backButtonEvents();
    for (const [tab, expected] of [
      ['Clients', 1],
      ['Metrics', 0],
      ['Broadcasts', 0],
      ['Applications', 1],
    ] as const) {
      await goToSection(page, tab);
      await page.waitForTimeout(100);
      const after = await backButtonEvents();
      t.is(after - before, expected, `back button events on the way to ${tab}`);
      before = after;
    }
    await page.getByText('Anna').first().waitFor();

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
    await checkScreen(t, tg, 'panel-applications');

    await goToSection(page, 'Clients');
    await page.getByText('Maria Ivanova').waitFor();
    await page.getByText('Zoe').waitFor();
    t.true(await page.getByText('Monthly coaching').first().isVisible());
    await checkScreen(t, tg, 'panel-clients');

    // A broadcast to the clients, watched to the end.
    await goToSection(page, 'Broadcasts');
    await page.getByLabel('Send to').selectOption('clients');
    await page.getByLabel('Message').fill('New programme starts on Monday. See you at training!');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByRole('button', { name: 'Confirm: Send' }).click();
    const bar = page.getByRole('progressbar');
    await bar.waitFor();
    // Switching tabs unmounts the screen; the broadcast comes back from sessionStorage and its bar
    // goes on to the end.
    await goToSection(page, 'Clients');
    await goToSection(page, 'Broadcasts');
    await bar.waitFor();
    t.true(await page.getByText('New programme starts on Monday').isVisible());
    await page.locator('[role="progressbar"][data-status="completed"]').waitFor({ timeout: 20_000 });
    // And after a reload of the page too.
    await page.reload();
    await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
    await goToSection(page, 'Broadcasts');
    await page.locator('[role="progressbar"][data-status="completed"]').waitFor({ timeout: 10_000 });
    t.is(await bar.count(), 1);
    const max = Number(await bar.getAttribute('aria-valuemax'));
    t.is(max, 4, 'three seeded clients and Zoe');
    t.is(Number(await bar.getAttribute('aria-valuenow')), max);
    t.true(await page.getByText('4 of 4 done').isVisible());
    await checkScreen(t, tg, 'panel-broadcasts');

    await goToSection(page, 'Subscription plans');
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
    await checkScreen(t, tg, 'panel-plans');

    await goToSection(page, 'Admins and roles');
    await page.getByText('Ivan').first().waitFor();
    await page.getByLabel('Telegram id').fill('834001');
    await page.getByLabel('Role', { exact: true }).selectOption('support');
    await page.getByRole('button', { name: 'Give role' }).click();
    await page.getByText('Telegram id: 834001').waitFor();
    await checkScreen(t, tg, 'panel-admins');
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

    await goToSection(page, 'Audit log');
    await page.getByText('accepted an application').waitFor();
    t.true(await page.getByText('sent a broadcast').isVisible());
    await checkScreen(t, tg, 'panel-audit-log');

    await goToSection(page, 'Metrics');
    await page.getByText(/^Computed /).waitFor({ timeout: 20_000 });
    await page.locator('.chart-canvas canvas').first().waitFor();
    t.true(await page.getByRole('heading', { name: 'Revenue' }).isVisible());
    // Telegram resizing the viewport rewrites <html>'s style (the SDK's CSS variables): the charts
    // are not drawn again for it. A theme change does redraw them (the colours are in the canvas).
    await page.evaluate("window.__canvas = document.querySelector('.chart-canvas canvas')");
    await tg.send('viewport_changed', { height: 600, width: 390, is_expanded: true, is_state_stable: true });
    await page.waitForFunction(
      () => document.documentElement.style.getPropertyValue('--tg-viewport-height') === '600px',
    );
    await page.waitForTimeout(200);
    t.true(await page.evaluate('window.__canvas.isConnected'), 'chart redrawn on a viewport change');
    await tg.switchTheme('dark');
    await page.waitForFunction('!window.__canvas.isConnected');
    await tg.switchTheme('light');
    await checkScreen(t, tg, 'panel-metrics');

    // Removing a client asks first, then the row goes.
    await goToSection(page, 'Clients');
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
