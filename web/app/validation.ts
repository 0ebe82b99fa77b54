/**
 * Client-side checks that mirror the API's zod schemas (src/domain/survey-answers.ts,
 * src/domain/test-results.ts) rule for rule, so a form the page accepts is one the API accepts;
 * test/browser/mini-app-validation.test.ts holds the two side by side. Problems are codes, turned
 * into sentences in the reader's language by texts.ts.
 */

export type Problem =
  | { code: 'required' }
  | { code: 'not_number' }
  | { code: 'not_integer' }
  | { code: 'range'; min: number; max: number }
  | { code: 'too_long'; max: number }
  | { code: 'bad_text' }
  | { code: 'choose_one' }
  | { code: 'choose_some' }
  | { code: 'server'; message: string };

export interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
}

/** A number as typed: "72,5" (a Russian keyboard's decimal comma) is 72.5. */
export function parseNumber(raw: string): number | undefined {
  const text = raw.trim().replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

export function checkNumber(raw: string, rule: NumberRule, required = true): Problem | undefined {
  if (raw.trim() === '') return required ? { code: 'required' } : undefined;
  const value = parseNumber(raw);
  if (value === undefined) return { code: 'not_number' };
  if (rule.integer && !Number.isInteger(value)) return { code: 'not_integer' };
  if (value < rule.min || value > rule.max) return { code: 'range', min: rule.min, max: rule.max };
  return undefined;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The API's freeText(max): trimmed length, no NUL, well-formed Unicode. */
export function checkText(raw: string, max: number): Problem | undefined {
  const text = raw.trim();
  if (text.length > max) return { code: 'too_long', max };
  if (text.includes('\u0000') || LONE_SURROGATE.test(text)) return { code: 'bad_text' };
  return undefined;
}

export function checkChoice(value: string, allowed: readonly string[]): Problem | undefined {
  return allowed.includes(value) ? undefined : { code: 'choose_one' };
}

export type Errors<K extends string> = Partial<Record<K, Problem>>;

export function hasErrors(errors: Errors<string>): boolean {
  return Object.values(errors).some(Boolean);
}

/**
 * The API's 400 `details` (`{path: "answers.age", message}`) as per-field problems; `prefix` is the
 * part of the path before the field name. Details naming no known field are returned apart.
 */
export function serverErrors<K extends string>(
  details: { path?: string; message: string }[],
  fields: readonly K[],
  prefix: string,
): { errors: Errors<K>; other: string[] } {
  const errors: Errors<K> = {};
  const other: string[] = [];
  for (const detail of details) {
    const path = detail.path ?? '';
    const name = (path.startsWith(prefix) ? path.slice(prefix.length) : path).split('.')[0] as K;
    if (fields.includes(name)) errors[name] ??= { code: 'server', message: detail.message };
    else other.push(path ? `${path}: ${detail.message}` : detail.message);
  }
  return { errors, other };
}
