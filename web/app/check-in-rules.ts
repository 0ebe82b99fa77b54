import {
  checkNumber,
  checkText,
  type Errors,
  hasErrors,
  type NumberRule,
  parseNumber,
} from './validation.ts';

/** What a check-in may hold, as src/domain/test-results.ts bounds it. */
export const RESULT_FIELDS = {
  weightKg: { min: 20, max: 300, integer: false },
  bodyFatPercent: { min: 2, max: 70, integer: false },
  restingHeartRate: { min: 25, max: 220, integer: true },
  pushUps: { min: 0, max: 1000, integer: true },
  squats: { min: 0, max: 2000, integer: true },
  plankSeconds: { min: 0, max: 36_000, integer: true },
  runMinutes: { min: 0, max: 1440, integer: false },
  runKm: { min: 0, max: 500, integer: false },
  energy: { min: 1, max: 10, integer: true },
  sleepHours: { min: 0, max: 24, integer: false },
} satisfies Record<string, NumberRule>;

export type ResultField = keyof typeof RESULT_FIELDS;
export const RESULT_KEYS = Object.keys(RESULT_FIELDS) as ResultField[];
export const TEST_KINDS = ['check_in', 'fitness_test'] as const;
export const NOTES_MAX = 1000;

export interface CheckInForm {
  kind: (typeof TEST_KINDS)[number];
  values: Record<ResultField, string>;
  notes: string;
}

export type CheckInField = ResultField | 'notes' | 'results';

export function emptyCheckIn(): CheckInForm {
  return {
    kind: 'check_in',
    values: Object.fromEntries(RESULT_KEYS.map((key) => [key, ''])) as Record<ResultField, string>,
    notes: '',
  };
}

export function validateCheckIn(form: CheckInForm): Errors<CheckInField> {
  const errors: Errors<CheckInField> = {};
  for (const key of RESULT_KEYS) {
    const problem = checkNumber(form.values[key], RESULT_FIELDS[key], false);
    if (problem) errors[key] = problem;
  }
  if (RESULT_KEYS.every((key) => form.values[key].trim() === '')) errors.results = { code: 'required' };
  const notes = checkText(form.notes, NOTES_MAX);
  if (notes) errors.notes = notes;
  return errors;
}

/** The body of POST /api/test-results for a form validateCheckIn passed. */
export function checkInBody(form: CheckInForm) {
  if (hasErrors(validateCheckIn(form))) throw new Error('the check-in has problems');
  const results: Record<string, number> = {};
  for (const key of RESULT_KEYS) {
    const value = parseNumber(form.values[key]);
    if (value !== undefined) results[key] = value;
  }
  const notes = form.notes.trim();
  return { kind: form.kind, results, ...(notes ? { notes } : {}) };
}
