import { request } from 'node:http';
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

/** `directive → sources` of a Content-Security-Policy header; a directive named twice fails. */
function parseCsp(header: string): Record<string, string[]> {
  const directives: Record<string, string[]> = {};
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (!name) continue;
    if (name in directives) throw new Error(`${name} twice in ${header}`);
    directives[name] = sources;
  }
  return directives;
}

const TELEGRAM_WEB_CLIENTS = [
  'https://web.telegram.org',
  'https://webk.telegram.org',
  'https://webz.telegram.org',
];

/** The pages' policy, directive by directive (src/http/security-headers.ts, docs/web-pages.md). */
function expectedCsp(page: 'app' | 'panel'): Record<string, string[]> {
  const panel = page === 'panel';
  return {
    'default-src': ["'self'"],
    // Only the panel loads Telegram's Login Widget: a script from telegram.org and its frame.
    'script-src': panel ? ["'self'", 'https://telegram.org'] : ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:', 'https://t.me', 'https://*.telegram.org'],
    'font-src': ["'self'"],
    'connect-src': ["'self'"],
    'frame-src': panel ? ['https://oauth.telegram.org'] : ["'none'"],
    'object-src': ["'none'"],
    'frame-ancestors': TELEGRAM_WEB_CLIENTS,
    'base-uri': ["'none'"],
    'form-action': ["'self'"],
  };
}

/** GET with the request target sent byte for byte (fetch would normalise `//` or `\\`). */
function rawGet(path: string): Promise<{ status: number; location: string | undefined }> {
  const { hostname, port } = new URL(system.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'GET' }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, location: response.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
}

test('the pages are served with a CSP that lets only Telegram frame them; hashed assets are cached for a year', async (t) => {
  for (const path of ['/app/', '/panel/']) {
    const response = await fetch(`${system.baseUrl}${path}`);
    t.is(response.status, 200, path);
    t.is(response.headers.get('cache-control'), 'no-cache');
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
  for (const variant of ['/APP/', '/app//', '/%61pp/', '/assets/nope.js', '/assets/../package.json']) {
    const response = await fetch(`${system.baseUrl}${variant}`);
    t.is(response.status, 404, variant);
    t.regex(response.headers.get('content-type') ?? '', /json/, variant);
  }
});

test('each page has exactly its own CSP: no wildcard source, no unsafe-*, framed only by Telegram’s web clients', async (t) => {
  for (const page of ['app', 'panel'] as const) {
    const response = await fetch(`${system.baseUrl}/${page}/`);
    const header = response.headers.get('content-security-policy') ?? '';
    const csp = parseCsp(header);
    t.deepEqual(csp, expectedCsp(page), `${page}: ${header}`);
    const sources = Object.values(csp).flat();
    t.false(sources.includes('*'), `${page}: a bare * source`);
    t.false(/unsafe-inline|unsafe-eval|unsafe-hashes/.test(header), `${page}: ${header}`);
    t.deepEqual(csp['frame-ancestors'], TELEGRAM_WEB_CLIENTS);
  }
});

test('/app and /panel redirect to the slash form, keeping the query, and never to another site', async (t) => {
  for (const [path, location] of [
    ['/app', '/app/'],
    ['/panel', '/panel/'],
    ['/app?startapp=ref-42&x=1', '/app/?startapp=ref-42&x=1'],
    ['/panel?x=%2F%2Fevil.example', '/panel/?x=%2F%2Fevil.example'],
  ]) {
    const answer = await rawGet(path!);
    t.is(answer.status, 308, path);
    t.is(answer.location, location, path);
  }
  for (const path of [
    '//evil.example/app',
    '//evil.example/app/',
    '/\\evil.example/app',
    '/app?x=//evil.example',
    '/app?//evil.example',
    '/app?x=https://evil.example/',
    '//app',
    '///evil.example/panel',
  ]) {
    const { status, location } = await rawGet(path);
    t.not(status, 500, path);
    if (location === undefined) continue;
    // Only a path on this site: not `//host`, not `/\\host` (browsers read both as another host).
    t.regex(location, /^\/(app|panel)\/(\?|$)/, `${path} → ${location}`);
    t.is(new URL(location, system.baseUrl).origin, new URL(system.baseUrl).origin, path);
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

test('outside Telegram the Mini App says so in the browser’s language (Russian here)', async (t) => {
  const context = await browser.newContext({ locale: 'ru-RU' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const apiCalls: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(r.url());
  });
  await page.goto(`${system.baseUrl}/app/`);
  await page.getByRole('heading', { name: 'Откройте это в Telegram' }).waitFor();
  await page.getByText('Это мини-приложение тренера: откройте его из бота в Telegram.').waitFor();
  t.is(await page.evaluate(() => document.documentElement.lang), 'ru');
  t.is(await page.title(), 'План тренировок');
  t.deepEqual(apiCalls, [], 'without initData the page does not call the API');
  // "no launch parameters" is a console.warn, not an error: nothing is broken here.
  t.deepEqual(problems, []);
  await context.close();
});

test('an expired launch link says to reopen the app from the bot, with no useless "Try again"', async (t) => {
  const twoDaysAgo = Date.now() - 2 * 86_400_000;
  const url = signedLaunchUrl(
    `${system.baseUrl}/app/`,
    TEST_BOT_TOKEN,
    { id: 4545, first_name: 'Old' },
    twoDaysAgo,
  );
  const tab = await openInBrowser(browser, 'about:blank', { viewport: 'phone' });
  const me = tab.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/me');
  await tab.page.goto(url);
  t.is((await me).status(), 401, 'initData older than INITDATA_MAX_AGE_SECONDS');
  await tab.page.getByText('This session has expired. Reopen the app from the bot.').waitFor();
  t.is(await tab.page.getByRole('button', { name: 'Try again' }).count(), 0);
  t.deepEqual(
    tab.problems.filter((line) => !line.includes('status of 401')),
    [],
  );
  await tab.close();
});
