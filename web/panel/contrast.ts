import { contrast, readable } from '../shared/theme.ts';

type Rgb = [number, number, number];

function parse(value: string): Rgb | undefined {
  const hex = /^#([0-9a-f]{6})$/i.exec(value.trim())?.[1];
  return hex ? ([0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as Rgb) : undefined;
}

const toHex = (rgb: Rgb) => `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;

/**
 * applyTheme() checks contrast before rounding its colours to hex, so a button can land at 4.48:1
 * (Telegram's #2481cc becomes #227bc2). The panel re-checks the rounded pair and nudges the
 * button a step further until the text on it really reaches 4.5:1.
 */
export function ensureButtonContrast(root: HTMLElement = document.documentElement): void {
  const style = root.style;
  const button = parse(style.getPropertyValue('--c-button'));
  const text = parse(style.getPropertyValue('--c-button-text'));
  if (!button || !text) return;
  let fixed = button;
  for (let ratio = 4.5; ratio < 5 && contrast(fixed, text) < 4.5; ratio += 0.05)
    fixed = readable(button, text, ratio).map(Math.round) as Rgb;
  if (fixed !== button) style.setProperty('--c-button', toHex(fixed));
}
