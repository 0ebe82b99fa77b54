/**
 * The pages follow Telegram's theme colours, but Telegram's own palettes do not always meet WCAG
 * AA for small text (the default light hint colour #999999 on white is 2.8:1, the default button
 * 4.2:1). So the colours the pages use (`--c-*`) are Telegram's, nudged toward black or white
 * until they reach 4.5:1 against the background they sit on.
 */

type Rgb = [number, number, number];

function parse(color: string | undefined): Rgb | undefined {
  if (!color) return undefined;
  const hex = color.trim().replace('#', '');
  if (!/^[0-9a-fA-F]{6}$/.test(hex)) return undefined;
  return [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as Rgb;
}

function toHex(rgb: Rgb): string {
  return `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
}

function luminance([r, g, b]: Rgb): number {
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

export function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** `fg` moved toward black or white (whichever the background is further from) until readable. */
export function readable(fg: Rgb, bg: Rgb, ratio = 4.5): Rgb {
  if (contrast(fg, bg) >= ratio) return fg;
  const target: Rgb = luminance(bg) > 0.5 ? [0, 0, 0] : [255, 255, 255];
  for (let step = 1; step <= 20; step++) {
    const t = step / 20;
    // Rounded as toHex will write it: the colour on screen is the one that must reach the ratio.
    const mixed = fg.map((v, i) => Math.round(v + (target[i]! - v) * t)) as Rgb;
    if (contrast(mixed, bg) >= ratio) return mixed;
  }
  return target;
}

const LIGHT: Record<string, string> = {
  bg: '#ffffff',
  text: '#000000',
  hint: '#707579',
  link: '#2481cc',
  button: '#2481cc',
  buttonText: '#ffffff',
  secondaryBg: '#f1f1f4',
  sectionBg: '#ffffff',
  destructive: '#d12d2d',
};

const DARK: Record<string, string> = {
  bg: '#17212b',
  text: '#f5f5f5',
  hint: '#708499',
  link: '#6ab3f3',
  button: '#5288c1',
  buttonText: '#ffffff',
  secondaryBg: '#232e3c',
  sectionBg: '#17212b',
  destructive: '#ec3942',
};

/** Reads Telegram's variables (bound by the SDK) or, outside Telegram, the system's light/dark. */
export function applyTheme(root: HTMLElement = document.documentElement): 'light' | 'dark' {
  const style = getComputedStyle(root);
  const tg = (name: string) => style.getPropertyValue(`--tg-theme-${name}`).trim() || undefined;
  const systemDark = window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
  const fallbackBg = parse(tg('bg-color'));
  const isDark = fallbackBg ? luminance(fallbackBg) < 0.4 : systemDark;
  const base = isDark ? DARK : LIGHT;
  const pick = (name: string, key: string): Rgb => parse(tg(name)) ?? parse(base[key])!;

  const bg = pick('bg-color', 'bg');
  const secondaryBg = pick('secondary-bg-color', 'secondaryBg');
  const sectionBg = pick('section-bg-color', 'sectionBg');
  // Text sits on both the page and its sections: it must read on the weaker of the two.
  const weaker =
    contrast(pick('text-color', 'text'), bg) < contrast(pick('text-color', 'text'), sectionBg)
      ? bg
      : sectionBg;
  const onBoth = (fg: Rgb) => readable(readable(fg, weaker), secondaryBg);
  const button = pick('button-color', 'button');
  const buttonText = readable(pick('button-text-color', 'buttonText'), button);
  // If white on the button cannot reach 4.5:1, darken (or lighten) the button instead.
  const buttonBg = contrast(buttonText, button) >= 4.5 ? button : readable(button, buttonText);

  const vars: Record<string, string> = {
    '--c-bg': toHex(bg),
    '--c-secondary-bg': toHex(secondaryBg),
    '--c-section-bg': toHex(sectionBg),
    '--c-text': toHex(onBoth(pick('text-color', 'text'))),
    '--c-hint': toHex(onBoth(pick('hint-color', 'hint'))),
    '--c-link': toHex(onBoth(pick('link-color', 'link'))),
    '--c-accent': toHex(onBoth(pick('accent-text-color', 'link'))),
    '--c-button': toHex(buttonBg),
    '--c-button-text': toHex(buttonText),
    '--c-danger': toHex(onBoth(pick('destructive-text-color', 'destructive'))),
    '--c-border': isDark ? '#ffffff24' : '#0000001f',
  };
  for (const [name, value] of Object.entries(vars)) root.style.setProperty(name, value);
  root.dataset.theme = isDark ? 'dark' : 'light';
  return isDark ? 'dark' : 'light';
}
