import {
  backButton,
  hapticFeedback,
  init,
  invoice,
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

export type InvoiceOutcome = 'paid' | 'cancelled' | 'failed' | 'pending' | 'unsupported';

/** Opens a Stars invoice link inside Telegram and resolves with how the payment sheet closed. */
export async function payInvoice(url: string): Promise<InvoiceOutcome> {
  if (!invoice.open.isAvailable()) return 'unsupported';
  const status = await invoice.open(url, 'url');
  if (status === 'paid' || status === 'cancelled' || status === 'failed' || status === 'pending')
    return status;
  return 'failed';
}
