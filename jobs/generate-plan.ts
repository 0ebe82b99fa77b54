import { AiLocalRateLimitError, AiPermanentError, AiRateLimitedError } from '../src/ai/ai-errors.ts';
import { PersonalPlan, Survey, TelegramUser } from '../src/db/entities/index.ts';
import { forkForTenant } from '../src/db/orm.ts';
import { planLifecycle } from '../src/domain/plan-lifecycle.ts';
import { surveyAnswersSchema } from '../src/domain/survey-answers.ts';
import { JobFailedError } from '../src/queue/job-errors.ts';
import { defineJob } from './job-definition.ts';

const INVALID_ANSWERS = 'stored survey answers are not valid';

/**
 * plans.generate: queued → generating → ready | failed (src/domain/plan-lifecycle.ts). Safe to
 * run twice: a finished plan is left alone, and every transition is conditional, so a second run
 * can neither make a second plan nor a second message.
 */
export const generatePlanJob = defineJob('plans.generate', {
  async handle({ tenantId, planId }, deps, ctx) {
    const em = forkForTenant(deps.orm, tenantId);
    const plan = await em.findOne(PersonalPlan, { id: planId });
    if (!plan) {
      ctx.log.warn({ planId }, 'plan no longer exists; nothing to do');
      return;
    }
    if (plan.status === 'ready' || plan.status === 'failed') return;
    const tenant = await deps.tenants.byId(tenantId);
    if (!tenant) return ctx.fail(`tenant ${tenantId} no longer exists`);
    const effects = { ...deps, miniAppUrl: tenant.miniAppUrl };
    // The offline generator costs nothing: only AI plans count toward a tenant's day.
    if (deps.planProvider.name !== 'offline') {
      // The tenant's plans for today are used up: the plan stays queued until the next UTC day,
      // no attempt spent; other tenants' plans go on.
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
    const provider = deps.aiBudget.limited(deps.planProvider, tenant);
    const startedAt = await planLifecycle.start(em, effects, plan);
    if (!startedAt) return;

    const [survey, user] = await Promise.all([
      em.findOneOrFail(Survey, { id: plan.surveyId }),
      em.findOneOrFail(TelegramUser, { id: plan.userId }),
    ]);
    const answers = surveyAnswersSchema.safeParse(survey.answers);
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
