import test from 'ava';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { Application, TelegramUser } from '../../src/db/entities/index.ts';
import {
  launchBrowser,
  launchUrl,
  miniAppInitData,
  openInTelegram,
  seriousA11yViolationsInBothThemes,
} from '../helpers/browser.ts';
import { authHeader } from '../helpers/init-data.ts';
import { goToSection, openPanelInTelegram, panelNav } from '../helpers/panel-page.ts';
import { seedApplicant, seedUsers } from '../helpers/seed.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * The trainer panel for roles other than the configured owner, and what changes while it is open:
 * support and trainer are offered only what they may do (the trainer in Russian), a role changed
 * or taken away elsewhere shrinks the panel without a reload, and a long-registered user accepted
 * as a client shows up live although they do not sort to the first page. The owner's tour of
 * every screen: panel.test.ts.
 */

const OWNER = 830001;
const SUPPORT = 830002;
const TRAINER = 830003;
const SECOND_OWNER = 830004;
const DEMOTED_OWNER = 830005;
const owner = authHeader({ id: OWNER, first_name: 'Olga' });
let system: TestSystem;
let browser: Browser;

test.before(async () => {
  [system, browser] = await Promise.all([
    startTestSystem({ env: { TELEGRAM_ADMINS: String(OWNER), METRICS_INTERVAL_MS: '2000' } }),
    launchBrowser(),
  ]);
  const em = system.em();
  await seedUsers(em, [SUPPORT], { role: 'support' });
  await seedUsers(em, [TRAINER], { role: 'trainer' });
  await seedUsers(em, [SECOND_OWNER, DEMOTED_OWNER], { role: 'owner' });
  await system.submitSurvey(832001, { first_name: 'Anna', username: 'anna_fit' });
  await system.submitSurvey(832002, { first_name: 'Boris' });
  // One accepted application, for the status filter.
  const { applicationId } = await system.submitSurvey(833001, { first_name: 'Zoe', username: 'zoe_runs' });
  const accepted = await system.request(`/api/panel/applications/${applicationId}/accept`, {
    method: 'POST',
    auth: owner,
  });
  if (accepted.status !== 200) throw new Error(`not accepted: ${accepted.status}`);
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

const openPanel = (telegramId: number, firstName: string) =>
  openPanelInTelegram(browser, system.baseUrl, telegramId, firstName);

const tabs = (page: Page) => panelNav(page).getByRole('button').allTextContents();

const TRAINER_TABS = ['Applications', 'Clients', 'Metrics', 'Broadcasts'];
const ALL_TABS = [...TRAINER_TABS, 'Subscription plans', 'Admins and roles', 'Audit log'];
const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

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
    t.deepEqual(await tabs(page), ['Applications', 'Metrics']);
    await page.getByText('Anna').first().waitFor();
    // Support may look at applications but not decide them.
    t.is(await page.getByRole('button', { name: 'Accept' }).count(), 0);
    t.is(await page.getByRole('button', { name: 'Reject' }).count(), 0);

    await goToSection(page, 'Metrics');
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
    const tg = await openInTelegram(browser, `${system.baseUrl}/healthz`, { theme: 'dark' });
    const { page } = tg;
    // The live socket goes through a route the test can hold down.
    let down = false;
    const sockets: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/api\/panel\/ws$/, (ws) => {
      if (down) return void ws.close({ code: 1011, reason: 'internal_error' });
      sockets.push(ws);
      ws.connectToServer();
    });
    const initData = miniAppInitData({ id: TRAINER, first_name: 'Ivan', language_code: 'ru' });
    await page.goto(launchUrl(system.baseUrl, '/panel/', { initData, theme: 'dark' }));
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

    // More applications than a page holds arrive while the socket is down. After the reconnect
    // the list starts over from the fresh first page (20, newest first) and its cursor, rather
    // than merging them above the old rows and losing the five that did not fit.
    const cards = page.locator('li[data-application-id]');
    await page.locator('[data-live-status="live"]').waitFor();
    t.is(await cards.count(), 3);
    down = true;
    await sockets.at(-1)!.close({ code: 1011, reason: 'internal_error' });
    await page.locator('[data-live-status="reconnecting"]').waitFor();
    const applicants = await seedUsers(system.em(), ids(835000, 25));
    for (const applicant of applicants) await seedApplicant(system.em(), applicant);
    const total = await system.em().count(Application, {});
    down = false;
    await page.locator('[data-live-status="live"]').waitFor({ timeout: 15_000 });
    await cards.nth(19).waitFor();
    t.is(await cards.count(), 20);
    // Then "Load more" with the fresh page's cursor reaches every row, none twice.
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

test.serial(
  'an owner demoted to support loses the owner screens at once, and a revoked one loses the panel',
  async (t) => {
    const tg = await openPanel(SECOND_OWNER, 'Oscar');
    const { page } = tg;
    await page.evaluate('window.__notReloaded = true');
    t.deepEqual(await tabs(page), ALL_TABS);
    await goToSection(page, 'Metrics');
    await page.getByRole('heading', { name: 'Revenue' }).waitFor();
    await page.locator('[data-live-status="live"]').waitFor();

    // Changed by the configured owner elsewhere: the socket closes with 4403 access_changed, the page
    // asks who the user is now and rebuilds the tabs; the revenue goes with view_revenue.
    const demoted = await system.request(`/api/panel/admins/${SECOND_OWNER}`, {
      method: 'PUT',
      auth: owner,
      body: JSON.stringify({ role: 'support' }),
    });
    t.is(demoted.status, 200);
    await page.waitForFunction(
      () => document.querySelectorAll('nav[aria-label="Panel sections"] button').length === 2,
    );
    t.deepEqual(await tabs(page), ['Applications', 'Metrics']);
    t.is(await page.getByRole('heading', { name: 'Revenue' }).count(), 0);
    t.regex((await page.locator('.who').textContent()) ?? '', /· Support$/);
    t.is(await page.evaluate('window.__notReloaded'), true);

    // The role taken away altogether: a plain screen, nothing of the panel behind it.
    const revoked = await system.request(`/api/panel/admins/${SECOND_OWNER}`, {
      method: 'DELETE',
      auth: owner,
    });
    t.is(revoked.status, 204);
    await page.getByText('You no longer have access to this panel').waitFor({ timeout: 10_000 });
    t.is(await panelNav(page).count(), 0);
    t.deepEqual(
      tg.problems.filter((p) => !p.includes('403')),
      [],
    );
    await tg.close();
  },
);

test.serial('a refusal for the role (403 permission_denied) also rebuilds the tabs', async (t) => {
  const tg = await openPanel(DEMOTED_OWNER, 'Olav');
  const { page } = tg;
  t.deepEqual(await tabs(page), ALL_TABS);
  // Changed behind the panel's back (no live event): the next refused call gives it away.
  await system.em().nativeUpdate(TelegramUser, { telegramId: String(DEMOTED_OWNER) }, { role: 'trainer' });
  await panelNav(page).getByRole('button', { name: 'Subscription plans', exact: true }).click();
  await page.waitForFunction(
    () => document.querySelectorAll('nav[aria-label="Panel sections"] button').length === 4,
  );
  t.deepEqual(await tabs(page), TRAINER_TABS);
  // The tab it was on is gone: the first screen is shown instead.
  await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
  await tg.close();
});

test.serial(
  'a long-registered user accepted as a client shows up live, though not on the first page',
  async (t) => {
    const em = system.em();
    // More clients than one page holds, all registered after the applicant below.
    await seedUsers(em, ids(836000, 25), { isClient: true });
    const [veteran] = await seedUsers(em, [836100]);
    veteran!.createdAt = new Date('2021-03-01T00:00:00Z');
    await em.flush();
    await seedApplicant(em, veteran!);
    const application = await em.findOneOrFail(Application, { userId: veteran!.id });

    const tg = await openPanel(OWNER, 'Olga');
    const { page } = tg;
    await goToSection(page, 'Clients');
    const cards = page.locator('li[data-client-id]');
    await cards.nth(19).waitFor();
    await page.locator('[data-live-status="live"]').waitFor();
    t.is(await cards.count(), 20);
    const row = page.locator('li[data-client-id="836100"]');
    t.is(await row.count(), 0);

    const accepted = await system.request(`/api/panel/applications/${application.id}/accept`, {
      method: 'POST',
      auth: owner,
    });
    t.is(accepted.status, 200);
    // client.added carries only ids; the page finds the row further down and shows it on top.
    await row.waitFor({ timeout: 10_000 });
    t.true(await row.getByText('Just added').isVisible());
    t.is(await cards.first().getAttribute('data-client-id'), '836100');
    // "Load more" does not show it twice.
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('li[data-client-id]').length > 21);
    t.is(await row.count(), 1);
    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);
