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

/** What a plan view reads: a whole entity, or the summary row of latestPlanSummary. */
export type PlanViewSource = Pick<PersonalPlan, 'id' | 'status' | 'error' | 'createdAt' | 'readyAt'> &
  Partial<Pick<PersonalPlan, 'content'>>;

export function planView(plan: PlanViewSource, withContent = true): PlanView {
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

/**
 * The caller's newest plan without its content (GET /api/me shows id and status only), as one
 * fixed statement: no criteria to rebuild per request, no plan JSON read, and no entity in the
 * identity map (a partial entity there would later be served to a findOne wanting the content).
 * Uses the (tenant_id, user_id, created_at) index. The benchmarks' baselines run this exact text.
 */
export const SELECT_LATEST_PLAN_SUMMARY =
  'select id, status, error, created_at, ready_at from personal_plan where tenant_id = ? and user_id = ? ' +
  'order by created_at desc, id desc limit 1';

/** The row as pg returns it: timestamps are text until the platform parses them. */
type PlanSummaryRow = {
  id: string;
  status: PersonalPlan['status'];
  error: string | null;
  created_at: string;
  ready_at: string | null;
};

export async function latestPlanSummary(
  em: EntityManager,
  tenantId: string,
  userId: string,
): Promise<PlanViewSource | null> {
  const [row] = await em.execute<PlanSummaryRow[]>(SELECT_LATEST_PLAN_SUMMARY, [tenantId, userId], 'all');
  if (!row) return null;
  const platform = em.getPlatform();
  return {
    id: row.id,
    status: row.status,
    error: row.error,
    createdAt: platform.parseDate(row.created_at),
    readyAt: row.ready_at === null ? null : platform.parseDate(row.ready_at),
  };
}
