import {
  backButton,
  hapticFeedback,
  init,
  invoice,
  isTimeoutError,
  mainButton,
  miniApp,
  mockTelegramEnv,
  retrieveLaunchParams,
  retrieveRawInitData,
  themeParams,
  viewport,
} from '@telegram-apps/sdk-react';

/** Who opened the page, read once at boot from Telegram's launch parameters. */
export interface TelegramLaunch {
  /** The raw initData, sent as `Authorization: tma <initData>`. */
  initData: string;
  user: { id: number; firstName: string; languageCode: string | undefined };
  platform: string;
  /**
   * False when the launch parameters came with the URL but no Telegram client hosts the page:
   * the local launch link that `npm start` prints, opened in a plain browser. Telegram's own
   * buttons do not exist there, so pages show their in-page buttons only.
   */
  insideTelegram: boolean;
}

function hasTelegramBridge(): boolean {
  const w = window as unknown as { TelegramWebviewProxy?: unknown; external?: { notify?: unknown } };
  if (w.TelegramWebviewProxy) return true;
  if (typeof w.external?.notify === 'function') return true;
  // Telegram's web clients frame the page and talk to it with postMessage.
  return window.parent !== window;
}

/**
 * Starts Telegram's Mini App SDK: theme colours become CSS variables, the viewport is followed,
 * and the back and main buttons are mounted. Returns undefined outside Telegram (no launch
 * parameters): the caller says so instead of showing a blank page.
 */
/** The snake_case launch parameters; `ReturnType<typeof retrieveLaunchParams>` names its camelCase overload. */
const readLaunchParams = () => retrieveLaunchParams();

/**
 * Whether a real Telegram client hosts the page, as startTelegram found it. Outside one the SDK is
 * answered by mockTelegramEnv, which answers nothing about invoices: payInvoice must not wait for it.
 */
let hostedByTelegram = false;

/** True once startTelegram has found a real Telegram client around the page. */
export function isInsideTelegram(): boolean {
  return hostedByTelegram;
}

export function startTelegram(): TelegramLaunch | undefined {
  let initData: string | undefined;
  let params: ReturnType<typeof readLaunchParams>;
  try {
    params = readLaunchParams();
    initData = retrieveRawInitData();
  } catch (error) {
    console.warn('no launch parameters', error);
    return undefined;
  }
  if (!initData) return undefined;
  const insideTelegram = hasTelegramBridge();
  hostedByTelegram = insideTelegram;
  if (!insideTelegram) {
    // A plain browser: nothing would answer the SDK's calls, so they are answered here.
    mockTelegramEnv({ launchParams: window.location.hash.slice(1), onEvent: () => {} });
  }
  // Custom styles from Telegram arrive as an inline <style>, which the CSP (style-src 'self') refuses.
  init({ acceptCustomStyles: false });
  if (themeParams.mountSync.isAvailable()) {
    themeParams.mountSync();
    themeParams.bindCssVars();
  }
  if (miniApp.mountSync.isAvailable()) {
    miniApp.mountSync();
    miniApp.bindCssVars();
  }
  if (backButton.mount.isAvailable()) backButton.mount();
  if (mainButton.mount.isAvailable()) mainButton.mount();
  if (viewport.mount.isAvailable()) {
    viewport
      .mount()
      .then(() => {
        viewport.bindCssVars();
        if (viewport.expand.isAvailable()) viewport.expand();
      })
      .catch(() => {});
  }
  if (miniApp.ready.isAvailable()) miniApp.ready();
  const user = params.tgWebAppData?.user;
  return {
    initData,
    user: {
      id: user?.id ?? 0,
      firstName: user?.first_name ?? '',
      languageCode: user?.language_code,
    },
    platform: params.tgWebAppPlatform,
    insideTelegram,
  };
}

/**
 * Calls `apply` now and whenever the colours change: Telegram sends theme_changed when the user
 * switches theme with the app open; outside Telegram the system's light/dark setting is followed.
 */
export function followTheme(apply: () => void): void {
  apply();
  if (themeParams.isMounted()) themeParams.state.sub(() => setTimeout(apply, 0));
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', apply);
}

/** Telegram's back button: shown while `onBack` is set, hidden otherwise. Returns a cleanup. */
export function useTelegramBackButton(onBack: (() => void) | undefined): () => void {
  if (!onBack || !backButton.isMounted()) {
    if (backButton.hide.isAvailable()) backButton.hide();
    return () => {};
  }
  backButton.show();
  const off = backButton.onClick(onBack);
  return () => {
    off();
    if (backButton.hide.isAvailable()) backButton.hide();
  };
}

/** Telegram's main button mirrors a page's primary action (the page keeps its own button too). */
export function showMainButton(options: {
  text: string;
  enabled: boolean;
  loading: boolean;
  onClick: () => void;
}) {
  if (!mainButton.isMounted()) return () => {};
  mainButton.setParams({
    text: options.text,
    isVisible: true,
    isEnabled: options.enabled,
    isLoaderVisible: options.loading,
  });
  const off = mainButton.onClick(options.onClick);
  return () => {
    off();
    mainButton.setParams({ isVisible: false });
  };
}

export function haptic(kind: 'success' | 'error' | 'tap'): void {
  if (kind === 'tap') {
    if (hapticFeedback.impactOccurred.isAvailable()) hapticFeedback.impactOccurred('light');
  } else if (hapticFeedback.notificationOccurred.isAvailable()) {
    hapticFeedback.notificationOccurred(kind);
  }
}

/** `timeout`: Telegram never said how the payment sheet closed (see INVOICE_TIMEOUT_MS). */
export type InvoiceOutcome = 'paid' | 'cancelled' | 'failed' | 'pending' | 'unsupported' | 'timeout';

/**
 * A payment sheet left open this long is abandoned; past it the page stops waiting for Telegram's
 * invoice_closed so its button works again (a lost event must not freeze the page forever).
 */
export const INVOICE_TIMEOUT_MS = 10 * 60_000;

/** Whether payInvoice can open Telegram's payment sheet here (a real client that supports it). */
export function canPayInvoices(): boolean {
  return hostedByTelegram && invoice.open.isAvailable();
}

/**
 * Opens a Stars invoice link inside Telegram and resolves with how the payment sheet closed:
 * `unsupported` outside a real Telegram client, `timeout` when Telegram never answered.
 */
export async function payInvoice(url: string, options: { timeoutMs?: number } = {}): Promise<InvoiceOutcome> {
  if (!canPayInvoices()) return 'unsupported';
  let status: string;
  try {
    status = await invoice.open(url, 'url', { timeout: options.timeoutMs ?? INVOICE_TIMEOUT_MS });
  } catch (error) {
    if (isTimeoutError(error)) return 'timeout';
    throw error;
  }
  if (status === 'paid' || status === 'cancelled' || status === 'failed' || status === 'pending')
    return status;
  return 'failed';
}
