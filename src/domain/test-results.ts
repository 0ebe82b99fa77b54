import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TEST_RESULT_KINDS, TestResult } from '../db/entities/test-result.entity.ts';
import type { EntityManager } from '../db/orm.ts';
import { freeText } from './survey-answers.ts';

/** What a client can record; each value is bounded so a typo cannot poison charts. */
const resultsSchema = z
  .object({
    weightKg: z.number().min(20).max(300),
    bodyFatPercent: z.number().min(2).max(70),
    restingHeartRate: z.number().int().min(25).max(220),
    pushUps: z.number().int().min(0).max(1000),
    squats: z.number().int().min(0).max(2000),
    plankSeconds: z.number().int().min(0).max(36_000),
    runMinutes: z.number().min(0).max(1440),
    runKm: z.number().min(0).max(500),
    energy: z.number().int().min(1).max(10),
    sleepHours: z.number().min(0).max(24),
  })
  .partial()
  .strict()
  .refine((results) => Object.keys(results).length > 0, 'record at least one result');

export const testResultBodySchema = z
  .object({
    kind: z.enum(TEST_RESULT_KINDS),
    results: resultsSchema,
    /** When the test was done; defaults to now; never in the future, at most a year back. */
    recordedAt: z.iso
      .datetime({ offset: true })
      .optional()
      .transform((value) => (value ? new Date(value) : undefined))
      .refine(
        (date) =>
          !date || (date.getTime() <= Date.now() + 60_000 && date.getTime() > Date.now() - 366 * 86_400_000),
        {
          message: 'must be within the last year and not in the future',
        },
      ),
    notes: freeText(1000).optional(),
  })
  .strict();

export type TestResultBody = z.infer<typeof testResultBodySchema>;

export async function recordTestResult(
  em: EntityManager,
  input: { tenantId: string; userId: string; body: TestResultBody },
): Promise<TestResult> {
  const now = new Date();
  const result = em.create(TestResult, {
    id: randomUUID(),
    tenantId: input.tenantId,
    userId: input.userId,
    kind: input.body.kind,
    recordedAt: input.body.recordedAt ?? now,
    results: input.body.results as Record<string, number>,
    notes: input.body.notes ?? null,
    createdAt: now,
  });
  await em.flush();
  return result;
}
