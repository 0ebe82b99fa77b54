import { PersonalPlan } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';

export interface PlanView {
  id: string;
  status: PersonalPlan['status'];
  content?: NonNullable<PersonalPlan['content']>;
  error?: string;
  createdAt: string;
  readyAt?: string;
}

export function planView(plan: PersonalPlan, withContent = true): PlanView {
  return {
    id: plan.id,
    status: plan.status,
    ...(withContent && plan.status === 'ready' && plan.content ? { content: plan.content } : {}),
    ...(plan.status === 'failed' && plan.error ? { error: plan.error } : {}),
    createdAt: plan.createdAt.toISOString(),
    ...(plan.readyAt ? { readyAt: plan.readyAt.toISOString() } : {}),
  };
}

/** Another user's plan is indistinguishable from a missing one (404), so ids cannot be probed. */
export async function findOwnPlan(
  em: EntityManager,
  userId: string,
  planId: string,
): Promise<PersonalPlan | null> {
  return em.findOne(PersonalPlan, { id: planId, userId });
}

export async function findLatestPlan(em: EntityManager, userId: string): Promise<PersonalPlan | null> {
  return em.findOne(PersonalPlan, { userId }, { orderBy: { createdAt: 'desc', id: 'desc' } });
}
