import { defineEntity, p } from '@mikro-orm/postgresql';
import type { PlanContent } from '../../ai/plan-content.ts';

export const PLAN_STATUSES = ['queued', 'generating', 'ready', 'failed'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

export const PersonalPlanSchema = defineEntity({
  name: 'PersonalPlan',
  tableName: 'personal_plan',
  // "latest plan of a user" and the stuck-work reconciler.
  indexes: [{ properties: ['tenantId', 'userId', 'createdAt'] }],
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    /** Unique: one survey yields one plan, ever. */
    surveyId: p.uuid().unique(),
    status: p.enum(PLAN_STATUSES).default('queued'),
    content: p.json<PlanContent>().nullable(),
    error: p.text().nullable(),
    provider: p.string().length(32).nullable(),
    attempts: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    startedAt: p.datetime().nullable(),
    readyAt: p.datetime().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});
export class PersonalPlan extends PersonalPlanSchema.class {}
PersonalPlanSchema.setClass(PersonalPlan);
