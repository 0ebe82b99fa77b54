import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import { EXAMPLE_ANSWERS, surveyAnswersSchema } from '../../src/domain/survey-answers.ts';
import { testResultBodySchema } from '../../src/domain/test-results.ts';
import { checkInBody, RESULT_FIELDS, RESULT_KEYS, validateCheckIn } from '../../web/app/check-in-rules.ts';
import {
  CHOICES,
  EQUIPMENT,
  NUMBER_FIELDS,
  type SurveyForm,
  surveyAnswers,
  validateSurvey,
} from '../../web/app/survey-rules.ts';
import { hasErrors, parseNumber, serverErrors } from '../../web/app/validation.ts';

/**
 * The Mini App checks its forms before sending them; these properties hold its rules against the
 * API's own zod schemas: whatever a user can type, the page accepts it exactly when the API would.
 */

/** Strings a user might type into a number field: in range, out of range, decimals, commas, junk. */
function typedNumber(rule: { min: number; max: number }) {
  return fc.oneof(
    fc.integer({ min: rule.min - 5, max: rule.max + 5 }).map(String),
    fc.double({ min: rule.min - 1, max: rule.max + 1, noNaN: true }).map((n) => n.toFixed(1)),
    fc.double({ min: rule.min, max: rule.max, noNaN: true }).map((n) => n.toFixed(2).replace('.', ',')),
    fc.constantFrom('', ' ', 'abc', '1e2', '.5', '-0', '12.', ' 42 ', String(rule.min), String(rule.max)),
  );
}

function typedChoice(options: readonly string[]) {
  return fc.oneof(fc.constantFrom(...options), fc.constantFrom('', 'other', options[0]!.toUpperCase()));
}

const typedText = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('', '   ', 'a\u0000b', '\uD800x', 'ok 🙂', `${'x'.repeat(max)}  `, 'x'.repeat(max + 1)),
  );

const surveyForm: fc.Arbitrary<SurveyForm> = fc.record({
  goal: typedChoice(CHOICES.goal),
  sex: typedChoice(CHOICES.sex),
  age: typedNumber(NUMBER_FIELDS.age),
  heightCm: typedNumber(NUMBER_FIELDS.heightCm),
  weightKg: typedNumber(NUMBER_FIELDS.weightKg),
  activityLevel: typedChoice(CHOICES.activityLevel),
  experience: typedChoice(CHOICES.experience),
  daysPerWeek: typedNumber(NUMBER_FIELDS.daysPerWeek),
  sessionMinutes: typedNumber(NUMBER_FIELDS.sessionMinutes),
  equipment: fc.array(fc.constantFrom(...EQUIPMENT, 'rope'), { maxLength: 7 }),
  injuries: typedText(1000),
  notes: typedText(2000),
});

/** What the page would send for a form, checked or not (a value it cannot parse goes as typed). */
function rawAnswers(form: SurveyForm): Record<string, unknown> {
  const answers: Record<string, unknown> = { ...form };
  for (const field of Object.keys(NUMBER_FIELDS) as (keyof typeof NUMBER_FIELDS)[])
    answers[field] = parseNumber(form[field]) ?? form[field];
  for (const field of ['injuries', 'notes'] as const) {
    if (form[field].trim()) answers[field] = form[field].trim();
    else delete answers[field];
  }
  return answers;
}

testProp('the survey form passes exactly when the API would accept it', [surveyForm], (t, form) => {
  const pageSaysOk = !hasErrors(validateSurvey(form));
  const apiSaysOk = surveyAnswersSchema.safeParse(rawAnswers(form)).success;
  t.is(pageSaysOk, apiSaysOk, JSON.stringify(form));
  if (pageSaysOk) t.true(surveyAnswersSchema.safeParse(surveyAnswers(form)).success);
});

testProp(
  'the check-in form passes exactly when the API would accept it',
  [
    fc.record(Object.fromEntries(RESULT_KEYS.map((key) => [key, typedNumber(RESULT_FIELDS[key])]))),
    fc.array(fc.constantFrom(...RESULT_KEYS), { maxLength: 4 }),
    typedText(1000),
  ],
  (t, typed, filled, notes) => {
    const values = Object.fromEntries(
      RESULT_KEYS.map((key) => [key, filled.includes(key) ? (typed[key] ?? '') : '']),
    ) as Record<(typeof RESULT_KEYS)[number], string>;
    const form = { kind: 'check_in' as const, values, notes };
    const results = Object.fromEntries(
      RESULT_KEYS.filter((key) => values[key].trim() !== '').map((key) => [
        key,
        parseNumber(values[key]) ?? values[key],
      ]),
    );
    const body = { kind: 'check_in', results, ...(notes.trim() ? { notes: notes.trim() } : {}) };
    const pageSaysOk = !hasErrors(validateCheckIn(form));
    t.is(pageSaysOk, testResultBodySchema.safeParse(body).success, JSON.stringify(body));
    if (pageSaysOk) t.true(testResultBodySchema.safeParse(checkInBody(form)).success);
  },
);

test("the API's 400 details land on the fields they name", (t) => {
  const parsed = surveyAnswersSchema.safeParse({ ...EXAMPLE_ANSWERS, age: 200, equipment: [] });
  const details = parsed.error!.issues.map((issue) => ({
    path: `answers.${issue.path.join('.')}`,
    message: issue.message,
  }));
  const { errors, other } = serverErrors(
    [...details, { path: 'answers', message: 'Unrecognized key' }],
    ['age', 'equipment', 'goal'],
    'answers.',
  );
  t.deepEqual(Object.keys(errors).sort(), ['age', 'equipment']);
  t.is(errors.age?.code, 'server');
  t.deepEqual(other, ['answers: Unrecognized key']);
});
