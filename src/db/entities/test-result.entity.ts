import { defineEntity, p } from '@mikro-orm/postgresql';

export const TEST_RESULT_KINDS = ['fitness_test', 'check_in'] as const;

/** A client's fitness test or check-in from the Mini App (weights, reps, how they feel). */
export const TestResultSchema = defineEntity({
  name: 'TestResult',
  tableName: 'test_result',
  indexes: [{ properties: ['tenantId', 'userId', 'recordedAt'] }],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    kind: p.enum(TEST_RESULT_KINDS),
    recordedAt: p.datetime(),
    results: p.json<Record<string, number>>(),
    notes: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class TestResult extends TestResultSchema.class {}
TestResultSchema.setClass(TestResult);
