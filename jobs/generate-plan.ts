import { raw } from '@mikro-orm/postgresql';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { AiPermanentError, AiRateLimitedError } from '../src/ai/ai-errors.ts';
import { PersonalPlan, Survey, TelegramUser } from '../src/db/entities/index.ts';
import { forkForTenant } from '../src/db/orm.ts';
import { triggerMetricsRecompute } from '../src/domain/metrics-trigger.ts';
import { planReadyMessage } from '../src/domain/notification-texts.ts';
import { queueNotification } from '../src/domain/notifications.ts';
import { surveyAnswersSchema } from '../src/domain/survey-answers.ts';
import { RetryAfterError } from '../src/queue/queue-catalogue.ts';
import { defineJob } from './job-definition.ts';

const payloadSchema = z.object({ tenantId: z.uuid(), planId: z.uuid() });

/**
 * queued → generating → ready | failed. Safe to run twice: a finished plan is left alone, and the
 * ready transition is a conditional update in the same transaction as the notification it causes,
 * so a second run can neither make a second plan nor a second message.
 */
export const generatePlanJob = defineJob({
  name: 'plans.generate',
  payload: payloadSchema,

  async handle({ tenantId, planId }, deps, ctx) {
    const em = forkForTenant(deps.orm, tenantId);
    const plan = await em.findOne(PersonalPlan, { id: planId });
    if (!plan) {
      ctx.log.warn({ planId }, 'plan no longer exists; nothing to do');
      return;
    }
    if (plan.status === 'ready' || plan.status === 'failed') return;

    const startedAt = plan.startedAt ?? new Date();
    const started = await em.nativeUpdate(
      PersonalPlan,
      { id: planId, status: { $in: ['queued', 'generating'] } },
      { status: 'generating', attempts: raw('attempts + 1'), startedAt, updatedAt: new Date() },
    );
    if (started > 0 && plan.status === 'queued') {
      deps.liveEvents?.publish(tenantId, {
        type: 'plan.status',
        planId,
        userId: plan.userId,
        status: 'generating',
      });
    }
    const [survey, user] = await Promise.all([
      em.findOneOrFail(Survey, { id: plan.surveyId }),
      em.findOneOrFail(TelegramUser, { id: plan.userId }),
    ]);
    const parsedAnswers = surveyAnswersSchema.safeParse(survey.answers);
    // Stored answers that no longer fit the schema will not fit on the next attempt either.
    if (!parsedAnswers.success) throw new UnrecoverableError('stored survey answers are not valid');
    const answers = parsedAnswers.data;

    let content: Awaited<ReturnType<typeof deps.planProvider.generatePlan>>;
    try {
      content = await deps.planProvider.generatePlan({
        answers,
        languageCode: user.languageCode ?? null,
        firstName: user.firstName || null,
      });
    } catch (error) {
      if (error instanceof AiRateLimitedError) {
        // Every worker shares the provider's limit, so slow the whole queue down, and count the
        // attempt so a provider that never recovers still ends in `failed`.
        await ctx.pauseQueue(error.retryAfterMs);
        throw new RetryAfterError(error.message, error.retryAfterMs);
      }
      if (error instanceof AiPermanentError) throw new UnrecoverableError(error.message);
      throw error;
    }

    const readyAt = new Date();
    const published = await em.transactional(async (tx) => {
      const updated = await tx.nativeUpdate(
        PersonalPlan,
        { id: planId, status: { $in: ['queued', 'generating'] } },
        {
          status: 'ready',
          content,
          error: null,
          provider: deps.planProvider.name,
          readyAt,
          updatedAt: readyAt,
        },
      );
      if (updated === 0) return false;
      const message = planReadyMessage(user.languageCode ?? null, user.firstName || null);
      queueNotification(tx, {
        tenantId,
        user,
        kind: 'plan_ready',
        dedupeKey: `plan_ready:${planId}`,
        text: message.text,
        button: deps.miniAppUrl ? { text: message.buttonText, url: deps.miniAppUrl } : null,
        now: readyAt,
      });
      await tx.flush();
      await triggerMetricsRecompute(tx, tenantId, readyAt);
      return true;
    });
    if (published) {
      deps.onOutboxWritten?.();
      deps.metrics?.plans.inc({ status: 'ready' });
      // From the client's point of view: survey accepted (plan queued) to plan ready.
      deps.metrics?.planGenerationSeconds.observe(
        { provider: deps.planProvider.name },
        (readyAt.getTime() - plan.createdAt.getTime()) / 1000,
      );
      deps.liveEvents?.publish(tenantId, {
        type: 'plan.status',
        planId,
        userId: plan.userId,
        status: 'ready',
      });
      ctx.log.info(
        {
          event: 'plan_generated',
          planId,
          provider: deps.planProvider.name,
          seconds: (readyAt.getTime() - startedAt.getTime()) / 1000,
        },
        'plan ready',
      );
    }
  },

  async onFinalFailure({ tenantId, planId }, deps, error) {
    const em = forkForTenant(deps.orm, tenantId);
    const reason =
      error instanceof UnrecoverableError
        ? 'We could not create your plan from these answers. Please contact your coach.'
        : 'The plan generator is unavailable right now. Please submit the survey again later.';
    const updated = await em.nativeUpdate(
      PersonalPlan,
      { id: planId, status: { $in: ['queued', 'generating'] } },
      { status: 'failed', error: reason, updatedAt: new Date() },
    );
    if (updated === 0) return;
    deps.metrics?.plans.inc({ status: 'failed' });
    deps.logger.warn({ event: 'plan_failed', planId, cause: error.message }, 'plan failed');
    // Best effort: the plan is already failed, and the scheduler recomputes within minutes anyway.
    if (await triggerMetricsRecompute(em, tenantId).catch(() => false)) deps.onOutboxWritten?.();
    if (deps.liveEvents) {
      const plan = await em.findOne(PersonalPlan, { id: planId }, { fields: ['userId'] });
      if (plan)
        deps.liveEvents.publish(tenantId, {
          type: 'plan.status',
          planId,
          userId: plan.userId,
          status: 'failed',
        });
    }
  },
});
