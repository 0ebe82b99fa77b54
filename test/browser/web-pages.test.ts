import test from 'ava';
import type { Browser } from 'playwright-core';
import { signedLaunchUrl } from '../../src/telegram/launch-link.ts';
import {
  launchBrowser,
  launchUrl,
  miniAppInitData,
  openInBrowser,
  openInTelegram,
} from '../helpers/browser.ts';
import { TEST_BOT_TOKEN } from '../helpers/init-data.ts';
import { startTestSystem, type TestSystem } from '../helpers/test-system.ts';

let system: TestSystem;
let browser: Browser;

test.before(async () => {
  [system, browser] = await Promise.all([
    startTestSystem({ env: { TELEGRAM_ADMINS: '4444' } }),
    launchBrowser(),
  ]);
});
test.after.always(async () => {
  await browser?.close();
  await system?.stop();
});

test('the pages are served with a CSP that lets only Telegram frame them; hashed assets are cached for a year', async (t) => {
  for (const path of ['/app/', '/panel/']) {
    const response = await fetch(`${system.baseUrl}${path}`);
    t.is(response.status, 200, path);
    t.is(response.headers.get('cache-control'), 'no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    t.regex(csp, /frame-ancestors https:\/\/web\.telegram\.org/);
    t.regex(csp, /script-src 'self'/);
    t.is(response.headers.get('x-frame-options'), null);
    const html = await response.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    t.truthy(asset, 'the page loads a hashed script');
    const script = await fetch(`${system.baseUrl}${asset}`, { headers: { 'accept-encoding': 'gzip' } });
    t.is(script.status, 200);
    t.is(script.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    t.regex(script.headers.get('content-type') ?? '', /javascript/);
    const etag = response.headers.get('etag')!;
    const again = await fetch(`${system.baseUrl}${path}`, { headers: { 'if-none-match': etag } });
    t.is(again.status, 304);
  }
  const redirect = await fetch(`${system.baseUrl}/app`, { redirect: 'manual' });
  t.is(redirect.status, 308);
  t.is(redirect.headers.get('location'), '/app/');
  for (const variant of ['/APP/', '/app//', '/%61pp/', '/assets/nope.js', '/assets/../package.json']) {
    const response = await fetch(`${system.baseUrl}${variant}`);
    t.is(response.status, 404, variant);
    t.regex(response.headers.get('content-type') ?? '', /json/, variant);
  }
});

test('outside Telegram the Mini App says so instead of a blank page', async (t) => {
  const tab = await openInBrowser(browser, `${system.baseUrl}/app/`, { viewport: 'phone' });
  await tab.page.getByRole('heading', { name: /open .* telegram/i }).waitFor();
  t.deepEqual(tab.problems, []);
  await tab.close();
});

test('inside Telegram the Mini App greets the user and tells Telegram it is ready', async (t) => {
  const url = launchUrl(system.baseUrl, '/app/', {
    initData: miniAppInitData({ id: 4242, first_name: 'Ann' }),
  });
  const tg = await openInTelegram(browser, url);
  await tg.page.getByRole('heading', { name: /Ann/ }).waitFor();
  const names = (await tg.events()).map((e) => e.name);
  t.true(names.includes('web_app_ready'), names.join(','));
  t.deepEqual(tg.problems, []);
  await tg.close();
});

test('the signed local launch link that npm start prints works in a plain browser, outside any Telegram client', async (t) => {
  const url = signedLaunchUrl(`${system.baseUrl}/app/`, TEST_BOT_TOKEN, { id: 4343, first_name: 'Lee' });
  const tab = await openInBrowser(browser, 'about:blank', { viewport: 'phone' });
  const me = tab.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/me');
  await tab.page.goto(url);
  t.is((await me).status(), 200, 'the page called the API as the signed user');
  t.is(await tab.page.getByRole('heading', { name: /open .* telegram/i }).count(), 0);
  t.deepEqual(tab.problems, []);
  await tab.close();
});

test('the coach’s signed local launch link opens the panel in a plain browser, as an owner', async (t) => {
  const url = signedLaunchUrl(`${system.baseUrl}/panel/`, TEST_BOT_TOKEN, { id: 4444, first_name: 'Coach' });
  const tab = await openInBrowser(browser, 'about:blank', { viewport: 'desktop' });
  const session = tab.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/panel/session');
  await tab.page.goto(url);
  const answer = await session;
  t.is(answer.status(), 200);
  t.is(((await answer.json()) as { role: string }).role, 'owner');
  await tab.page
    .getByRole('link', { name: 'Audit log' })
    .or(tab.page.getByRole('button', { name: 'Audit log' }))
    .first()
    .waitFor();
  t.deepEqual(tab.problems, []);
  await tab.close();
});
