import { randomUUID } from 'node:crypto';
import { SubscriptionPlan } from '../db/entities/index.ts';
import { type PlanStatus, SUBSCRIPTION_PERIOD_DAYS } from '../db/entities/subscription-plan.entity.ts';
import type { EntityManager } from '../db/orm.ts';
import { writeAudit } from '../domain/audit-log.ts';
import { NotFoundError } from '../domain/errors.ts';

/**
 * The plans a coach sells. Plans are never deleted: a payment or subscription may point at one,
 * and the history must still name it, so "remove" is archiving, which only hides it from sale.
 */

/** What the Mini App shows a client choosing a plan. */
export interface OfferedPlanView {
  id: string;
  title: string;
  description: string;
  priceStars: number;
  periodDays: number;
}

/** What the panel shows the coach, archived plans included. */
export interface PlanAdminView extends OfferedPlanView {
  status: PlanStatus;
  createdAt: string;
  updatedAt: string;
}

export interface PlanFields {
  title: string;
  description: string;
  priceStars: number;
}

export type PlanChanges = Partial<PlanFields & { status: PlanStatus }>;

export function offeredPlanView(plan: SubscriptionPlan): OfferedPlanView {
  return {
    id: plan.id,
    title: plan.title,
    description: plan.description,
    priceStars: plan.priceStars,
    periodDays: plan.periodDays,
  };
}

export function planAdminView(plan: SubscriptionPlan): PlanAdminView {
  return {
    ...offeredPlanView(plan),
    status: plan.status,
    createdAt: plan.createdAt.toISOString(),
    updatedAt: plan.updatedAt.toISOString(),
  };
}

/** Plans on sale, cheapest first (the order a client compares them in). */
export async function listOfferedPlans(em: EntityManager): Promise<OfferedPlanView[]> {
  const plans = await em.find(
    SubscriptionPlan,
    { status: 'active' },
    { orderBy: { priceStars: 'asc', createdAt: 'asc', id: 'asc' }, connectionType: 'read' },
  );
  return plans.map(offeredPlanView);
}

/** Every plan, on sale first, then newest first: the panel's list. */
export async function listAllPlans(em: EntityManager): Promise<PlanAdminView[]> {
  const plans = await em.find(
    SubscriptionPlan,
    {},
    { orderBy: { status: 'asc', createdAt: 'desc', id: 'desc' }, connectionType: 'read' },
  );
  return plans.map(planAdminView);
}

/** A plan a client may buy now; archived plans are as absent as unknown ones. */
export async function findOfferedPlan(em: EntityManager, planId: string): Promise<SubscriptionPlan | null> {
  return em.findOne(SubscriptionPlan, { id: planId, status: 'active' });
}

export async function createPlan(
  em: EntityManager,
  input: { tenantId: string; actorId: string; fields: PlanFields },
): Promise<PlanAdminView> {
  return em.transactional(async (tx) => {
    const now = new Date();
    const plan = tx.create(SubscriptionPlan, {
      id: randomUUID(),
      tenantId: input.tenantId,
      ...input.fields,
      periodDays: SUBSCRIPTION_PERIOD_DAYS,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    });
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: 'plan.create',
      targetType: 'plan',
      targetId: plan.id,
      details: { ...input.fields },
      at: now,
    });
    await tx.flush();
    return planAdminView(plan);
  });
}

/**
 * Edits and archives/unarchives a plan. Only real changes are written and audited (as
 * `{field: {from, to}}`), so a repeated PATCH is a no-op. A new price applies to new invoices:
 * Telegram keeps charging existing subscribers what they agreed to, and an invoice created at the
 * old price is refused at checkout (`price_changed`).
 */
export async function updatePlan(
  em: EntityManager,
  input: { tenantId: string; actorId: string; planId: string; changes: PlanChanges },
): Promise<PlanAdminView> {
  return em.transactional(async (tx) => {
    // FOR NO KEY UPDATE: two edits of one plan serialise, so each audits what it really changed,
    // while payments referencing the plan (a foreign-key share lock) are never blocked.
    await tx.execute(
      'select id from subscription_plan where id = ? and tenant_id = ? for no key update',
      [input.planId, input.tenantId],
      'all',
    );
    const plan = await tx.findOne(SubscriptionPlan, { id: input.planId }, { refresh: true });
    if (!plan) throw new NotFoundError('plan_not_found', 'No such plan.');
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [field, value] of Object.entries(input.changes) as [keyof PlanChanges, unknown][]) {
      if (value === undefined || plan[field] === value) continue;
      changed[field] = { from: plan[field], to: value };
      Object.assign(plan, { [field]: value });
    }
    if (Object.keys(changed).length > 0) {
      writeAudit(tx, {
        tenantId: input.tenantId,
        actorId: input.actorId,
        action: 'plan.update',
        targetType: 'plan',
        targetId: plan.id,
        details: changed,
      });
      await tx.flush();
    }
    return planAdminView(plan);
  });
}
