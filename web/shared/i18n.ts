export type Language = 'en' | 'ru';

/** Russian for Telegram users whose app is in Russian (or a close language), English otherwise. */
export function pickLanguage(code: string | undefined): Language {
  const base = (code ?? navigator.language ?? 'en').toLowerCase().split('-')[0];
  return base === 'ru' || base === 'uk' || base === 'be' || base === 'kk' ? 'ru' : 'en';
}

/** Formats a date in the reader's language. */
export function formatDate(value: string | Date, language: Language, withTime = false): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  return date.toLocaleString(language === 'ru' ? 'ru-RU' : 'en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    ...(withTime ? { hour: '2-digit', minute: '2-digit' } : {}),
  });
}
