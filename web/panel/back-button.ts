import { backButton } from '@telegram-apps/sdk-react';
import { useEffect, useRef } from 'react';

/**
 * Telegram's back button, shown while `onBack` is set. Unlike the shared helper (which hides the
 * button whenever it is called without a handler), this only talks to Telegram when visibility
 * really changes: every show/hide is a postEvent to the client, and re-running them on each tab
 * switch made the button flicker. The handler is read through a ref, so a new callback identity
 * does not re-run anything either.
 */
export function useBackButton(onBack: (() => void) | undefined): void {
  const handler = useRef(onBack);
  handler.current = onBack;
  const visible = onBack !== undefined;
  const initiallyVisible = useRef(visible);
  // The SDK restores the button's last state after a reload; hide a leftover one once.
  useEffect(() => {
    if (!initiallyVisible.current && backButton.isMounted() && backButton.isVisible()) backButton.hide();
  }, []);
  useEffect(() => {
    if (!visible || !backButton.isMounted()) return;
    backButton.show();
    const off = backButton.onClick(() => handler.current?.());
    return () => {
      off();
      if (backButton.hide.isAvailable()) backButton.hide();
    };
  }, [visible]);
}
