import { type ReactNode, useEffect, useRef } from 'react';

/**
 * The screen's heading. It takes the focus when the screen opens, so a screen reader announces
 * the new screen and the keyboard continues from its top.
 */
export function ScreenTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className="screen-title">
      {children}
    </h1>
  );
}
