import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { forkForTenant } from '../../src/db/orm.ts';
import { signLoginWidget } from '../../src/security/login-widget.ts';
import {
  captureScreens,
  launchBrowser,
  launchUrl,
  miniAppInitData,
  openInBrowser,
  openInTelegram,
} from '../helpers/browser.ts';
import { seedUsers } from '../helpers/seed.ts';
import { startTestSystem, type TestSystem, type TestTenant } from '../helpers/test-system.ts';

/**
 * A second coach's pages in a real browser: /app/b/ inside the fake Telegram with b's initData
 * (the survey, then the plan), and /panel/b/ for b's owner, from Telegram and from a desktop
 * browser with b's Login Widget. Every API call of those pages names the coach (X-Tenant: b), and
 * the panel's socket says so in its auth message. Screens go to docs/screenshots/tenant-*.png.
 */

const CLIENT = { id: 960001, first_name: 'Bea', language_code: 'en' };
const B_OWNER = 960002;
let system: TestSystem;
let browser: Browser;
let b: TestTenant;

test.before(async () => {
  [system, browser] = await Promise.all([startTestSystem({ tenants: [{ slug: 'b' }] }), launchBrowser()]);
  b = system.tenants.b!;
  await seedUsers(forkForTenant(system.orm, b.id), [B_OWNER], { role: 'owner', tenantId: b.id });
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

/** The X-Tenant header of every API request the page makes from now on. */
function tenantHeadersOf(page: Page): Array<string | undefined> {
  const seen: Array<string | undefined> = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/')) seen.push(request.headers()['x-tenant']);
  });
  return seen;
}

test.serial("b's client opens /app/b/ in Telegram, sends the survey and reads the plan", async (t) => {
  const tg = await openInTelegram(browser, 'about:blank');
  const { page } = tg;
  const tenants = tenantHeadersOf(page);
  await page.goto(launchUrl(system.baseUrl, '/app/b/', { initData: miniAppInitData(CLIENT, b.botToken) }));
  await page.getByRole('heading', { name: 'Hi, Bea!' }).waitFor();
  await page.getByRole('button', { name: 'Fill in the survey' }).click();
  await page.getByRole('heading', { name: 'About you' }).waitFor();
  for (const [label, exact] of [
    ['Build muscle', false],
    ['Female', true],
    ['Moderately active', false],
    ['Beginner', false],
    ['Dumbbells', false],
  ] as const) {
    await page.getByLabel(label, { exact }).check();
  }
  for (const [label, value] of [
    ['Age, years', '31'],
    ['Height, cm', '170'],
    ['Weight, kg', '62'],
    ['Training days per week', '3'],
    ['Minutes per session', '45'],
  ] as const) {
    await page.getByLabel(label).fill(value);
  }
  await page.getByRole('button', { name: 'Get my plan' }).click();
  await page.getByRole('heading', { name: 'Your plan' }).waitFor();
  await page.getByRole('heading', { name: /^Week 1/ }).waitFor({ timeout: 30_000 });
  await captureScreens(tg, 'tenant-b-mini-app-plan', { theme: 'light', viewport: 'phone' });

  t.true(tenants.length > 0);
  t.deepEqual(
    tenants.filter((value) => value !== 'b'),
    [],
    'every API call names the coach',
  );
  t.deepEqual(tg.problems, []);
  await tg.close();
});

test.serial(
  "b's owner opens /panel/b/ in Telegram: b's client's application, and a socket for b",
  async (t) => {
    const tg = await openInTelegram(browser, 'about:blank');
    const { page } = tg;
    const tenants = tenantHeadersOf(page);
    const authMessages: string[] = [];
    page.on('websocket', (socket) =>
      socket.on('framesent', (frame) => {
        if (typeof frame.payload === 'string' && frame.payload.includes('"auth"'))
          authMessages.push(frame.payload);
      }),
    );
    await page.goto(
      launchUrl(system.baseUrl, '/panel/b/', {
        initData: miniAppInitData({ id: B_OWNER, first_name: 'Boris' }, b.botToken),
      }),
    );
    await page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
    await page.getByText('Bea').first().waitFor();
    await captureScreens(tg, 'tenant-b-panel-applications', { theme: 'light', viewport: 'phone' });
    t.deepEqual(
      tenants.filter((value) => value !== 'b'),
      [],
    );
    t.true(authMessages.length > 0, 'the panel opened its live socket');
    t.true(authMessages.every((message) => (JSON.parse(message) as { tenant?: string }).tenant === 'b'));
    t.deepEqual(tg.problems, []);
    await tg.close();
  },
);

test.serial("in a desktop browser /panel/b/ shows b's Login Widget and logs in with b's bot", async (t) => {
  const tab = await openInBrowser(browser, `${system.baseUrl}/healthz`, { theme: 'light' });
  await tab.context.route('https://telegram.org/**', (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }),
  );
  await tab.page.goto(`${system.baseUrl}/panel/b/`);
  const widget = tab.page.locator('script[data-telegram-login]');
  await widget.waitFor({ state: 'attached' });
  t.is(await widget.getAttribute('data-telegram-login'), 'b_coach_bot');
  t.is(await widget.getAttribute('data-auth-url'), `${system.baseUrl}/panel/b/`);

  // What Telegram's redirect back brings: b's bot signed the fields.
  const fields = signLoginWidget(b.botToken, {
    id: B_OWNER,
    first_name: 'Boris',
    auth_date: Math.floor(Date.now() / 1000),
  });
  const query = new URLSearchParams(Object.entries(fields).map(([key, value]) => [key, String(value)]));
  await tab.page.goto(`${system.baseUrl}/panel/b/?${query}`);
  await tab.page.getByRole('heading', { name: 'Applications', level: 2 }).waitFor();
  const cookies = await tab.context.cookies(`${system.baseUrl}/api/panel`);
  t.deepEqual(
    cookies.map((cookie) => cookie.name),
    ['coach_panel_session_b'],
  );
  const target = {
    page: tab.page,
    switchTheme: (theme: 'light' | 'dark') => tab.page.emulateMedia({ colorScheme: theme }),
  };
  await captureScreens(target, 'tenant-b-panel-browser', { theme: 'light', viewport: 'desktop' });
  await tab.close();
});
