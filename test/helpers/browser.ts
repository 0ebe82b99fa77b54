import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { initDataFor, type TestUser } from './init-data.ts';

/** Debian's Chromium (`apt-get install chromium`); playwright-core downloads no browser of its own. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Telegram's own default palettes (what `tgWebAppThemeParams` carries on Android). */
export const TELEGRAM_THEMES = {
  light: {
    bg_color: '#ffffff',
    text_color: '#000000',
    hint_color: '#999999',
    link_color: '#2481cc',
    button_color: '#2481cc',
    button_text_color: '#ffffff',
    secondary_bg_color: '#efeff3',
    header_bg_color: '#ffffff',
    accent_text_color: '#2481cc',
    section_bg_color: '#ffffff',
    section_header_text_color: '#6d6d72',
    subtitle_text_color: '#999999',
    destructive_text_color: '#ff3b30',
    bottom_bar_bg_color: '#ffffff',
  },
  dark: {
    bg_color: '#212121',
    text_color: '#ffffff',
    hint_color: '#aaaaaa',
    link_color: '#8774e1',
    button_color: '#8774e1',
    button_text_color: '#ffffff',
    secondary_bg_color: '#181818',
    header_bg_color: '#212121',
    accent_text_color: '#8774e1',
    section_bg_color: '#212121',
    section_header_text_color: '#aaaaaa',
    subtitle_text_color: '#aaaaaa',
    destructive_text_color: '#ff595a',
    bottom_bar_bg_color: '#212121',
  },
} as const;

export type ThemeName = keyof typeof TELEGRAM_THEMES;

export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 860 },
} as const;

export type ViewportName = keyof typeof VIEWPORTS;

/**
 * initData as Telegram sends it today, with the Ed25519 `signature` field beside `hash` (the Mini
 * App SDK refuses launch parameters without it). The server checks only `hash`, over every field.
 */
export function miniAppInitData(user: TestUser, token?: string): string {
  const signature = Buffer.alloc(64, user.id.toString()).toString('base64url');
  return initDataFor({ language_code: 'en', ...user }, { token, extra: { signature } });
}

/** The URL Telegram opens: the page with its launch parameters in the hash. */
export function launchUrl(
  base: string,
  path: string,
  options: { initData: string; theme?: ThemeName; platform?: string },
): string {
  const params = new URLSearchParams({
    tgWebAppData: options.initData,
    tgWebAppVersion: '8.0',
    tgWebAppPlatform: options.platform ?? 'android',
    tgWebAppThemeParams: JSON.stringify(TELEGRAM_THEMES[options.theme ?? 'light']),
  });
  return `${base}${path}#${params.toString()}`;
}

/** A method call the page made to the Telegram client (web_app_setup_main_button, ...). */
export interface TelegramEvent {
  name: string;
  data: unknown;
}

/**
 * Plays the Telegram client around the page, as Telegram for Android does: the page posts events
 * to `window.TelegramWebviewProxy.postEvent` and the client answers through
 * `window.Telegram.WebView.receiveEvent`. Every call is recorded for the test to read. Plain
 * JavaScript source: a function would be compiled by tsx with helpers the page does not have.
 */
function telegramClientScript(
  theme: Record<string, string>,
  viewport: { width: number; height: number },
): string {
  return `(() => {
    const theme = ${JSON.stringify(theme)};
    const viewport = ${JSON.stringify(viewport)};
    window.__telegramEvents = [];
    const reply = (name, data) => setTimeout(() => window.Telegram?.WebView?.receiveEvent(name, data), 0);
    window.TelegramWebviewProxy = {
      postEvent(name, raw) {
        const data = raw ? JSON.parse(raw) : undefined;
        window.__telegramEvents.push({ name, data });
        if (name === 'web_app_request_theme') reply('theme_changed', { theme_params: theme });
        if (name === 'web_app_request_viewport') {
          reply('viewport_changed', { height: viewport.height, width: viewport.width, is_expanded: true, is_state_stable: true });
        }
        if (name === 'web_app_request_safe_area') reply('safe_area_changed', { top: 0, bottom: 0, left: 0, right: 0 });
        if (name === 'web_app_request_content_safe_area') {
          reply('content_safe_area_changed', { top: 0, bottom: 0, left: 0, right: 0 });
        }
      },
    };
  })();`;
}

export interface TelegramPage {
  page: Page;
  context: BrowserContext;
  /** Everything the page asked of the Telegram client so far. */
  events(): Promise<TelegramEvent[]>;
  /** Telegram tells the page something (main_button_pressed, invoice_closed, theme_changed, ...). */
  send(name: string, data?: unknown): Promise<void>;
  /** Telegram's theme switched while the page is open. */
  switchTheme(theme: ThemeName): Promise<void>;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
  close(): Promise<void>;
}

function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

/** Opens `url` as Telegram would: in a webview that answers the Mini App bridge. */
export async function openInTelegram(
  browser: Browser,
  url: string,
  options: { theme?: ThemeName; viewport?: ViewportName } = {},
): Promise<TelegramPage> {
  const theme = TELEGRAM_THEMES[options.theme ?? 'light'];
  const viewport = VIEWPORTS[options.viewport ?? 'phone'];
  const context = await browser.newContext({
    viewport,
    colorScheme: options.theme === 'dark' ? 'dark' : 'light',
    deviceScaleFactor: 1,
  });
  await context.addInitScript(telegramClientScript({ ...theme }, viewport));
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(url);
  const send = async (name: string, data?: unknown) => {
    await page.evaluate(
      `window.Telegram.WebView.receiveEvent(${JSON.stringify(name)}, ${JSON.stringify(data ?? null)})`,
    );
  };
  return {
    page,
    context,
    problems,
    events: () => page.evaluate('window.__telegramEvents') as Promise<TelegramEvent[]>,
    send,
    async switchTheme(name) {
      await page.emulateMedia({ colorScheme: name === 'dark' ? 'dark' : 'light' });
      await send('theme_changed', { theme_params: TELEGRAM_THEMES[name] });
    },
    close: () => context.close(),
  };
}

/** Opens `url` in a plain desktop browser tab (the panel with the Login Widget). */
export async function openInBrowser(
  browser: Browser,
  url: string,
  options: { theme?: ThemeName; viewport?: ViewportName } = {},
): Promise<{ page: Page; context: BrowserContext; problems: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({
    viewport: VIEWPORTS[options.viewport ?? 'desktop'],
    colorScheme: options.theme === 'dark' ? 'dark' : 'light',
  });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(url);
  return { page, context, problems, close: () => context.close() };
}

const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Writes docs/screenshots/<name>-<theme>-<viewport>.png of the page as it is now, in both
 * viewports and both themes (switched live, as Telegram does), then puts the page back as it was.
 */
export async function captureScreens(
  target: Pick<TelegramPage, 'page' | 'switchTheme'>,
  name: string,
  restore: { theme: ThemeName; viewport: ViewportName },
): Promise<string[]> {
  const written: string[] = [];
  for (const theme of ['light', 'dark'] as const) {
    await target.switchTheme(theme);
    for (const viewport of ['phone', 'desktop'] as const) {
      await target.page.setViewportSize(VIEWPORTS[viewport]);
      await target.page.waitForTimeout(50);
      const path = `${SCREENSHOT_DIR}${name}-${theme}-${viewport}.png`;
      await target.page.screenshot({ path, fullPage: true, animations: 'disabled' });
      written.push(path);
    }
  }
  await target.switchTheme(restore.theme);
  await target.page.setViewportSize(VIEWPORTS[restore.viewport]);
  return written;
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2 A and AA rules) on the page as it is now and returns the serious and
 * critical violations. Injected through the DevTools protocol, which the page's CSP does not govern.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = (await page.evaluate(`(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  })()`)) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Both themes: axe's contrast checks depend on the colours in force. */
export async function seriousA11yViolationsInBothThemes(
  target: Pick<TelegramPage, 'page' | 'switchTheme'>,
  restore: ThemeName,
): Promise<AxeViolation[]> {
  const all: AxeViolation[] = [];
  for (const theme of ['light', 'dark'] as const) {
    await target.switchTheme(theme);
    await target.page.waitForTimeout(50);
    for (const v of await seriousA11yViolations(target.page))
      all.push({ ...v, help: `[${theme}] ${v.help}` });
  }
  await target.switchTheme(restore);
  return all;
}

/** Screenshots of the screen in both themes and viewports, and no serious axe violation in either theme. */
export async function checkScreen(t: ExecutionContext, tg: TelegramPage, name: string): Promise<void> {
  await captureScreens(tg, name, { theme: 'light', viewport: 'phone' });
  const violations = await seriousA11yViolationsInBothThemes(tg, 'light');
  t.deepEqual(violations, [], `${name}: ${JSON.stringify(violations, null, 1)}`);
}

/** Counts the requests the page makes to `path` with `method` from now on, to prove what was (not) sent. */
export function countRequests(page: Page, method: string, path: string): { count: number } {
  const seen = { count: 0 };
  page.on('request', (request) => {
    if (request.method() === method && new URL(request.url()).pathname === path) seen.count += 1;
  });
  return seen;
}
