import { z } from 'zod';

export const GOALS = ['lose_weight', 'build_muscle', 'endurance', 'general_health'] as const;
export const ACTIVITY_LEVELS = ['sedentary', 'light', 'moderate', 'high'] as const;
export const EXPERIENCE_LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export const EQUIPMENT = ['none', 'dumbbells', 'barbell', 'kettlebell', 'bands', 'gym'] as const;

/**
 * Text a person typed. PostgreSQL cannot store NUL characters, and a lone UTF-16 surrogate (valid
 * in a JSON string, not in Unicode) breaks jsonb, so both are refused up front with a 400.
 */
export function freeText(max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'must not contain NUL characters')
    .refine((value) => value.isWellFormed(), 'must be well-formed Unicode (no lone surrogates)');
}

/** The intake survey, exactly as DESIGN.md fixes it. Unknown keys are refused so typos surface as 400s. */
export const surveyAnswersSchema = z
  .object({
    goal: z.enum(GOALS),
    sex: z.enum(['male', 'female']),
    age: z.number().int().min(14).max(90),
    heightCm: z.number().min(120).max(230),
    weightKg: z.number().min(35).max(250),
    activityLevel: z.enum(ACTIVITY_LEVELS),
    experience: z.enum(EXPERIENCE_LEVELS),
    daysPerWeek: z.number().int().min(1).max(7),
    sessionMinutes: z.number().int().min(15).max(180),
    equipment: z
      .array(z.enum(EQUIPMENT))
      .min(1)
      .max(EQUIPMENT.length)
      .refine((items) => new Set(items).size === items.length, 'must not repeat an item'),
    injuries: freeText(1000).optional(),
    notes: freeText(2000).optional(),
  })
  .strict();

export type SurveyAnswers = z.infer<typeof surveyAnswersSchema>;

/** A complete, valid set of answers: the API's documented example, and what tests submit. */
export const EXAMPLE_ANSWERS: SurveyAnswers = {
  goal: 'build_muscle',
  sex: 'female',
  age: 30,
  heightCm: 168,
  weightKg: 60,
  activityLevel: 'moderate',
  experience: 'beginner',
  daysPerWeek: 3,
  sessionMinutes: 45,
  equipment: ['dumbbells'],
};
