import { AiLocalRateLimitError, AiPermanentError, AiRateLimitedError } from '../src/ai/ai-errors.ts';
import { PersonalPlan } from '../src/db/entities/index.ts';
import { forkForTenant } from '../src/db/orm.ts';
import { planLifecycle } from '../src/domain/plan-lifecycle.ts';
import { surveyAnswersSchema } from '../src/domain/survey-answers.ts';
import { JobFailedError } from '../src/queue/job-errors.ts';
import { defineJob, type JobContext } from './job-definition.ts';

const INVALID_ANSWERS = 'stored survey answers are not valid';

function planGone(ctx: JobContext, planId: string): void {
  ctx.log.warn({ planId }, 'plan no longer exists; nothing to do');
}

/**
 * plans.generate: queued → generating → ready | failed (src/domain/plan-lifecycle.ts). Safe to
 * run twice: a finished plan is left alone, and every transition is conditional, so a second run
 * can neither make a second plan nor a second message.
 */
export const generatePlanJob = defineJob('plans.generate', {
  async handle({ tenantId, planId }, deps, ctx) {
    const em = forkForTenant(deps.orm, tenantId);
    const tenant = await deps.tenants.byId(tenantId);
    const offline = deps.planProvider.name === 'offline';
    // An AI plan is admitted to its tenant's day before it starts, so it reads the plan first; an
    // offline plan (and a tenant we cannot find) skips that read: start() finds finished plans.
    if (!offline || !tenant) {
      const plan = await em.findOne(PersonalPlan, { id: planId }, { fields: ['id', 'status'] });
      if (!plan) return planGone(ctx, planId);
      if (plan.status === 'ready' || plan.status === 'failed') return;
      if (!tenant) return ctx.fail(`tenant ${tenantId} no longer exists`);
      // Only AI plans count toward a tenant's day (the offline generator costs nothing). When the
      // day's plans are used up the plan stays queued until the next UTC day, no attempt spent;
      // other tenants' plans go on.
      const admission = await deps.aiBudget.admitPlan(tenant, planId);
      if (!admission.ok) {
        deps.aiBudget.recordPlansPerDayDelay();
        ctx.log.warn(
          {
            event: 'tenant_ai_plans_per_day_reached',
            tenant: tenant.slug,
            planId,
            plansPerDay: tenant.ai.plansPerDay,
            retryAfterMs: admission.retryAfterMs,
          },
          "tenant's AI plans for today are used up; the plan waits for the next UTC day",
        );
        return ctx.delay(admission.retryAfterMs);
      }
    }
    const effects = { ...deps, miniAppUrl: tenant.miniAppUrl };
    const provider = deps.aiBudget.limited(deps.planProvider, tenant);
    const started = await planLifecycle.start(em, effects, tenantId, planId);
    if (!started) {
      // Finished (a second run) or gone; only the latter is worth a line, as before.
      if (offline && !(await em.findOne(PersonalPlan, { id: planId }, { fields: ['id'] })))
        planGone(ctx, planId);
      return;
    }
    const { plan, user, startedAt } = started;
    const answers = surveyAnswersSchema.safeParse(started.answers);
    // Stored answers that no longer fit the schema will not fit on the next attempt either.
    if (!answers.success) return ctx.fail(INVALID_ANSWERS);

    let content: Awaited<ReturnType<typeof provider.generatePlan>>;
    try {
      content = await provider.generatePlan({
        answers: answers.data,
        languageCode: user.languageCode ?? null,
        firstName: user.firstName || null,
      });
    } catch (error) {
      // Our own budget (AI_REQUESTS_PER_MINUTE, or the tenant's per minute) is full: no call was
      // made, nothing failed.
      if (error instanceof AiLocalRateLimitError) return ctx.delay(error.retryAfterMs);
      // The provider asked us to wait: retry no sooner than it said, counting the attempt so a
      // provider that never recovers still ends in `failed`.
      if (error instanceof AiRateLimitedError) return ctx.retryAfter(error.retryAfterMs, error.message);
      if (error instanceof AiPermanentError) return ctx.fail(error.message);
      throw error;
    }
    await planLifecycle.ready(em, effects, {
      plan,
      user,
      content,
      provider: deps.planProvider.name,
      startedAt,
    });
  },

  async onFinalFailure({ tenantId, planId }, deps, error) {
    const tenant = await deps.tenants.byId(tenantId);
    return planLifecycle.fail(
      forkForTenant(deps.orm, tenantId),
      { ...deps, miniAppUrl: tenant?.miniAppUrl },
      {
        tenantId,
        planId,
        // Only answers that cannot make a plan are the client's to fix; anything else (the AI kept
        // failing, refused our key) is ours, and trying again later is the right advice.
        cause:
          error instanceof JobFailedError && error.message === INVALID_ANSWERS ? 'unfixable' : 'unavailable',
        detail: error.message.slice(0, 500),
      },
    );
  },
});
