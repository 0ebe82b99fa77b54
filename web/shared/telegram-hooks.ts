import { useEffect, useRef } from 'react';
import { showMainButton, useTelegramBackButton } from './telegram.ts';

/**
 * React hooks over telegram.ts: Telegram's back button while `onBack` is set, and the main button
 * mirroring a screen's primary action. The latest callbacks are used without re-registering them
 * on every render; the buttons hide when the component unmounts.
 */
export function useBackButton(onBack: (() => void) | undefined): void {
  const latest = useRef(onBack);
  latest.current = onBack;
  const shown = onBack !== undefined;
  useEffect(
    // biome-ignore lint/correctness/useHookAtTopLevel: not a React hook despite its name (telegram.ts).
    () => useTelegramBackButton(shown ? () => latest.current?.() : undefined),
    [shown],
  );
}

export interface MainButtonOptions {
  text: string;
  enabled?: boolean;
  loading?: boolean;
  onClick: () => void;
}

export function useMainButton(options: MainButtonOptions | undefined): void {
  const latest = useRef(options?.onClick);
  latest.current = options?.onClick;
  const text = options?.text;
  const enabled = options?.enabled ?? true;
  const loading = options?.loading ?? false;
  useEffect(() => {
    if (!text) return;
    return showMainButton({
      text,
      enabled: enabled && !loading,
      loading,
      onClick: () => {
        if (enabled && !loading) latest.current?.();
      },
    });
  }, [text, enabled, loading]);
}
