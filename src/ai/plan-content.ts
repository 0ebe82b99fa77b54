import { z } from 'zod';

/**
 * The plan a client sees. Every field is required (nullable where it may be absent) because
 * OpenAI structured outputs in strict mode only accept schemas shaped that way.
 */
export const exerciseSchema = z.object({
  name: z.string().min(1).max(120),
  sets: z.number().int().min(1).max(10),
  reps: z.string().min(1).max(40).describe('e.g. "8-12", "30 s", "5 min"'),
  restSeconds: z.number().int().min(0).max(600),
  notes: z.string().max(300).nullable(),
});

export const dayPlanSchema = z.object({
  day: z.number().int().min(1).max(7),
  title: z.string().min(1).max(120),
  durationMinutes: z.number().int().min(5).max(240),
  warmup: z.string().max(300),
  exercises: z.array(exerciseSchema).min(1).max(15),
  cooldown: z.string().max(300),
});

export const weekPlanSchema = z.object({
  week: z.number().int().min(1).max(12),
  focus: z.string().min(1).max(200),
  days: z.array(dayPlanSchema).min(1).max(7),
});

export const planContentSchema = z.object({
  summary: z.string().min(1).max(2000),
  weeks: z.array(weekPlanSchema).min(1).max(12),
  guidelines: z.array(z.string().max(300)).max(12),
});

export type Exercise = z.infer<typeof exerciseSchema>;
export type DayPlan = z.infer<typeof dayPlanSchema>;
export type WeekPlan = z.infer<typeof weekPlanSchema>;
export type PlanContent = z.infer<typeof planContentSchema>;
