import {
  checkChoice,
  checkNumber,
  checkText,
  type Errors,
  hasErrors,
  type NumberRule,
  parseNumber,
} from './validation.ts';

/** The survey of DESIGN.md, as src/domain/survey-answers.ts validates it. */
export const GOALS = ['lose_weight', 'build_muscle', 'endurance', 'general_health'] as const;
export const SEXES = ['male', 'female'] as const;
export const ACTIVITY_LEVELS = ['sedentary', 'light', 'moderate', 'high'] as const;
export const EXPERIENCE_LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export const EQUIPMENT = ['none', 'dumbbells', 'barbell', 'kettlebell', 'bands', 'gym'] as const;

export const NUMBER_FIELDS = {
  age: { min: 14, max: 90, integer: true },
  heightCm: { min: 120, max: 230, integer: false },
  weightKg: { min: 35, max: 250, integer: false },
  daysPerWeek: { min: 1, max: 7, integer: true },
  sessionMinutes: { min: 15, max: 180, integer: true },
} satisfies Record<string, NumberRule>;

export const TEXT_LIMITS = { injuries: 1000, notes: 2000 } as const;

export type NumberField = keyof typeof NUMBER_FIELDS;
export type ChoiceField = 'goal' | 'sex' | 'activityLevel' | 'experience';

export const CHOICES: Record<ChoiceField, readonly string[]> = {
  goal: GOALS,
  sex: SEXES,
  activityLevel: ACTIVITY_LEVELS,
  experience: EXPERIENCE_LEVELS,
};

/** The form as typed: every value a string, equipment a list of ticked boxes. */
export interface SurveyForm {
  goal: string;
  sex: string;
  age: string;
  heightCm: string;
  weightKg: string;
  activityLevel: string;
  experience: string;
  daysPerWeek: string;
  sessionMinutes: string;
  equipment: string[];
  injuries: string;
  notes: string;
}

export type SurveyField = keyof SurveyForm;

/** In the order the form shows them (the first with a problem gets the focus). */
export const SURVEY_FIELDS: readonly SurveyField[] = [
  'goal',
  'sex',
  'age',
  'heightCm',
  'weightKg',
  'activityLevel',
  'experience',
  'daysPerWeek',
  'sessionMinutes',
  'equipment',
  'injuries',
  'notes',
];

export const EMPTY_SURVEY: SurveyForm = {
  goal: '',
  sex: '',
  age: '',
  heightCm: '',
  weightKg: '',
  activityLevel: '',
  experience: '',
  daysPerWeek: '',
  sessionMinutes: '',
  equipment: [],
  injuries: '',
  notes: '',
};

export function validateSurvey(form: SurveyForm): Errors<SurveyField> {
  const errors: Errors<SurveyField> = {};
  for (const field of Object.keys(CHOICES) as ChoiceField[]) {
    const problem = checkChoice(form[field], CHOICES[field]);
    if (problem) errors[field] = problem;
  }
  for (const [field, rule] of Object.entries(NUMBER_FIELDS) as [NumberField, NumberRule][]) {
    const problem = checkNumber(form[field], rule);
    if (problem) errors[field] = problem;
  }
  const picked = form.equipment;
  if (
    picked.length === 0 ||
    new Set(picked).size !== picked.length ||
    picked.some((item) => !(EQUIPMENT as readonly string[]).includes(item))
  )
    errors.equipment = { code: 'choose_some' };
  for (const field of ['injuries', 'notes'] as const) {
    const problem = checkText(form[field], TEXT_LIMITS[field]);
    if (problem) errors[field] = problem;
  }
  return errors;
}

/** The body of POST /api/surveys for a form validateSurvey passed; empty optional texts are left out. */
export function surveyAnswers(form: SurveyForm): Record<string, unknown> {
  if (hasErrors(validateSurvey(form))) throw new Error('the survey has problems');
  const answers: Record<string, unknown> = {
    goal: form.goal,
    sex: form.sex,
    activityLevel: form.activityLevel,
    experience: form.experience,
    equipment: EQUIPMENT.filter((item) => form.equipment.includes(item)),
  };
  for (const field of Object.keys(NUMBER_FIELDS) as NumberField[]) answers[field] = parseNumber(form[field]);
  for (const field of ['injuries', 'notes'] as const) {
    const text = form[field].trim();
    if (text) answers[field] = text;
  }
  return answers;
}
