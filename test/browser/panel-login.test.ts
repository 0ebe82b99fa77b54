import test from 'ava';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PanelSession } from '../../src/db/entities/index.ts';
import { signLoginWidget } from '../../src/security/login-widget.ts';
import {
  captureScreens,
  launchBrowser,
  openInBrowser,
  seriousA11yViolationsInBothThemes,
  type ThemeName,
} from '../helpers/browser.ts';
import { TEST_BOT_TOKEN } from '../helpers/init-data.ts';
import { seedUsers } from '../helpers/seed.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

/**
 * The trainer panel in a desktop browser: the Telegram Login Widget's redirect back to
 * /panel/?id=…&hash=… becomes a session cookie; forged, foreign and expired logins are refused on
 * the login screen. telegram.org is not reachable from the test machine, so its widget script is
 * served by the test: a stand-in button where Telegram's iframe would be.
 */

const OWNER = 840001;
const TRAINER = 840002;
const BOT = 'coach_test_bot';
let system: TestSystem;
let browser: Browser;

test.before(async () => {
  [system, browser] = await Promise.all([
    startTestSystem({
      worker: false,
      env: { TELEGRAM_ADMINS: String(OWNER), TELEGRAM_BOT_USERNAME: BOT },
    }),
    launchBrowser(),
  ]);
  await seedUsers(system.em(), [TRAINER], { role: 'trainer' });
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

const WIDGET_STAND_IN = `(() => {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Log in with Telegram';
  Object.assign(button.style, { background: '#1f6fa8', color: '#ffffff', borderRadius: '20px', padding: '10px 22px' });
  document.currentScript.after(button);
})();`;

/** A browser tab on the panel, with telegram.org answered locally. */
async function openPanel(query = '', theme: ThemeName = 'light') {
  const tab = await openInBrowser(browser, `${system.baseUrl}/healthz`, { theme });
  await tab.context.route('https://telegram.org/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: WIDGET_STAND_IN }),
  );
  await tab.page.goto(`${system.baseUrl}/panel/${query}`);
  return tab;
}

/** captureScreens and axe switch themes the way a desktop browser does: the system's light/dark. */
const browserTarget = (page: Page) => ({
  page,
  switchTheme: (theme: ThemeName) => page.emulateMedia({ colorScheme: theme }),
});

const signedQuery = (fields: Record<string, string | number>) =>
  `?${new URLSearchParams(
    Object.entries(signLoginWidget(TEST_BOT_TOKEN, fields)).map(([k, v]) => [k, String(v)]),
  )}`;

async function sessionCookie(context: BrowserContext) {
  const cookies = await context.cookies(`${system.baseUrl}/api/panel/session`);
  return cookies.find((c) => c.name === 'coach_panel_session');
}

/** The one console error a refused login causes: the browser reports the 401/403 answer itself. */
const refusedLogin = (problem: string) =>
  /^console: Failed to load resource: the server responded with a status of 40[13]/.test(problem);

test.serial('the login screen shows the Telegram Login Widget of the configured bot', async (t) => {
  const tab = await openPanel();
  const { page } = tab;
  await page.getByRole('heading', { name: 'Log in to the trainer panel' }).waitFor();
  const script = page.locator('script[data-telegram-login]');
  await script.waitFor({ state: 'attached' });
  t.is(await script.getAttribute('src'), 'https://telegram.org/js/telegram-widget.js?22');
  t.is(await script.getAttribute('data-telegram-login'), BOT);
  t.is(await script.getAttribute('data-size'), 'large');
  t.is(await script.getAttribute('data-auth-url'), `${system.baseUrl}/panel/`);
  await page.getByRole('button', { name: 'Log in with Telegram' }).waitFor();
  await captureScreens(browserTarget(page), 'panel-login', { theme: 'light', viewport: 'desktop' });
  t.deepEqual(await seriousA11yViolationsInBothThemes(browserTarget(page), 'light'), []);
  t.deepEqual(tab.problems, []);
  await tab.close();
});

test.serial('without TELEGRAM_BOT_USERNAME the login screen says what the operator must set', async (t) => {
  const tab = await openInBrowser(browser, `${system.baseUrl}/healthz`);
  await tab.page.route('**/api/panel/login-options', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: '{"botUsername":null}' }),
  );
  await tab.page.goto(`${system.baseUrl}/panel/`);
  await tab.page.getByText(/must set TELEGRAM_BOT_USERNAME/).waitFor();
  t.true(await tab.page.getByText(/BotFather/).isVisible());
  t.is(await tab.page.locator('script[data-telegram-login]').count(), 0);
  await captureScreens(browserTarget(tab.page), 'panel-login-not-configured', {
    theme: 'light',
    viewport: 'desktop',
  });
  t.deepEqual(tab.problems, []);
  await tab.close();
});

test.serial(
  'the widget redirect logs in, the cookie survives a reload, a lost session and logout return to login',
  async (t) => {
    const query = signedQuery({ id: OWNER, first_name: 'Olga', username: 'olga_coach' });
    const tab = await openPanel(query);
    const { page, context } = tab;
    await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
    t.true(await page.getByText('Olga · Owner').isVisible());
    // The signed fields do not stay in the address bar or the history.
    t.is(page.url(), `${system.baseUrl}/panel/`);
    const cookie = await sessionCookie(context);
    t.truthy(cookie);
    t.true(cookie!.httpOnly);
    t.is(cookie!.sameSite, 'Strict');
    t.is(cookie!.path, '/api/panel');
    await page.locator('[data-live-status="live"]').waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
    await page.locator('[data-live-status="live"]').waitFor();
    const tabs = await page.getByRole('navigation').getByRole('button').allTextContents();
    t.true(tabs.includes('Admins and roles'));

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to the trainer panel' }).waitFor();
    await page.getByText('You have logged out.').waitFor();
    t.is(await sessionCookie(context), undefined);
    await page.reload();
    await page.getByRole('heading', { name: 'Log in to the trainer panel' }).waitFor();
    t.deepEqual(tab.problems, []);

    // A session that ends on the server (expired, revoked) sends the next action back to login.
    await page.goto(`${system.baseUrl}/panel/${signedQuery({ id: TRAINER, first_name: 'Ivan' })}`);
    await page.getByText('Ivan · Trainer').waitFor();
    t.deepEqual(await page.getByRole('navigation').getByRole('button').allTextContents(), [
      'Applications',
      'Clients',
      'Metrics',
      'Broadcasts',
    ]);
    await page.locator('[data-live-status="live"]').waitFor();
    await system.em().nativeDelete(PanelSession, {});
    // The next action finds the session gone. On a loaded machine the live socket may find it
    // first (it reconnects after a missed heartbeat, and its login is refused): then the Clients
    // button is already gone, and the page must say the same thing.
    await page
      .getByRole('navigation')
      .getByRole('button', { name: 'Clients' })
      .click({ timeout: 5_000 })
      .catch(() => {});
    await page.getByText('Your session has ended. Log in again.').waitFor();
    t.true(tab.problems.every(refusedLogin), tab.problems.join('\n'));
    await tab.close();
  },
);

test.serial('forged, foreign and non-admin logins are refused plainly and leave no session', async (t) => {
  const genuine = signLoginWidget(TEST_BOT_TOKEN, { id: OWNER, first_name: 'Olga' });
  const forged = new URLSearchParams(
    Object.entries({ ...genuine, first_name: 'Mallory' }).map(([k, v]) => [k, String(v)]),
  );
  const cases = [
    { query: `?${forged}`, text: /Telegram did not confirm this login/ },
    {
      query: signedQuery({ id: OWNER, first_name: 'Olga', auth_date: Math.floor(Date.now() / 1000) - 7200 }),
      text: /This Telegram login is too old/,
    },
    { query: signedQuery({ id: 849999, first_name: 'Stranger' }), text: /has no access to the panel/ },
  ];
  for (const { query, text } of cases) {
    const tab = await openPanel(query);
    await tab.page.getByRole('alert').filter({ hasText: text }).waitFor();
    t.true(await tab.page.getByRole('heading', { name: 'Log in to the trainer panel' }).isVisible());
    t.is(tab.page.url(), `${system.baseUrl}/panel/`);
    t.is(await sessionCookie(tab.context), undefined);
    t.is(tab.problems.length, 1, tab.problems.join('\n'));
    t.true(tab.problems.every(refusedLogin), tab.problems.join('\n'));
    if (text.source.includes('did not confirm'))
      await captureScreens(browserTarget(tab.page), 'panel-login-refused', {
        theme: 'light',
        viewport: 'desktop',
      });
    await tab.close();
  }
  t.is(await system.em().count(PanelSession, {}), 0);
});
