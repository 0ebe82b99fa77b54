import Router from '@koa/router';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import { z } from 'zod';
import type { BillingAdapter } from '../../billing/billing-adapter.ts';
import type { Config } from '../../config/env.ts';
import type { TelegramUser } from '../../db/entities/index.ts';
import { lookupSubscriptions, type SubscriptionView, subscriptionView } from '../../domain/clients.ts';
import { BadRequestError, NotFoundError, TooManyRequestsError } from '../../domain/errors.ts';
import type { LiveEventPublisher } from '../../domain/live-events.ts';
import { findLatestPlan, findOwnPlan, planView } from '../../domain/plans.ts';
import { surveyAnswersSchema } from '../../domain/survey-answers.ts';
import { submitSurvey } from '../../domain/surveys.ts';
import { recordTestResult, testResultBodySchema } from '../../domain/test-results.ts';
import { createSharedRateLimiter } from '../shared-rate-limiter.ts';
import { tmaAuth } from '../tma-auth.ts';
import { parseBody } from '../validation.ts';

const surveyBodySchema = z.object({ answers: surveyAnswersSchema }).strict();
const uuidSchema = z.uuid();

function meView(
  user: TelegramUser,
  latest: Awaited<ReturnType<typeof findLatestPlan>>,
  subscription: SubscriptionView,
) {
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    lastName: user.lastName,
    username: user.username,
    languageCode: user.languageCode,
    role: user.role,
    isClient: user.isClient,
    subscription,
    latestPlan: latest ? planView(latest, false) : null,
  };
}

export interface MiniAppRouteDeps {
  config: Config;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting a poll. */
  onOutboxWritten(): void;
  liveEvents: LiveEventPublisher;
  /** For the per-user rate limit of test results, shared by every web instance. */
  redis: Redis;
  billing: BillingAdapter;
}

/** DESIGN.md: 100 test/check-in results per hour per user. */
const TEST_RESULTS_PER_HOUR = 100;

export function miniAppRoutes(deps: MiniAppRouteDeps): Router {
  const router = new Router({ prefix: '/api' });
  const testResultLimiter = createSharedRateLimiter({
    redis: deps.redis,
    keyPrefix: `${deps.config.redis.queuePrefix}:test-results`,
    points: TEST_RESULTS_PER_HOUR,
    durationSeconds: 3600,
  });
  router.use(tmaAuth(deps.config));

  router.get('/me', async (ctx: Context) => {
    const user: TelegramUser = ctx.state.user;
    const [latest, subscriptions] = await Promise.all([
      findLatestPlan(ctx.state.em, user.id),
      lookupSubscriptions({ billing: deps.billing, log: ctx.state.log, tenantId: ctx.state.tenantId }, [
        user.id,
      ]),
    ]);
    ctx.body = meView(user, latest, subscriptionView(subscriptions, user.id));
  });

  router.post('/surveys', async (ctx: Context) => {
    const { answers } = parseBody(ctx, surveyBodySchema);
    const user: TelegramUser = ctx.state.user;
    const now = new Date();
    const result = await submitSurvey(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      userId: user.id,
      answers,
      plansPerDay: deps.config.plans.perUserPerDay,
      now,
    });
    deps.onOutboxWritten();
    // After the commit: the panel must never hear of an application that was rolled back.
    deps.liveEvents.publish(ctx.state.tenantId, {
      type: 'application.created',
      applicationId: result.applicationId,
      userId: user.id,
      telegramId: user.telegramId,
      createdAt: now.toISOString(),
    });
    ctx.status = 202;
    ctx.set('Location', `/api/plans/${result.planId}`);
    ctx.body = {
      surveyId: result.surveyId,
      applicationId: result.applicationId,
      plan: { id: result.planId, status: 'queued' },
    };
  });

  router.post('/test-results', async (ctx: Context) => {
    const body = parseBody(ctx, testResultBodySchema);
    const limit = await testResultLimiter.consume(ctx.state.user.id);
    if (!limit.allowed) {
      throw new TooManyRequestsError(
        'test_results_rate_limited',
        `You can record ${TEST_RESULTS_PER_HOUR} results per hour; try again later.`,
        limit.retryAfterMs / 1000,
      );
    }
    const result = await recordTestResult(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      userId: ctx.state.user.id,
      body,
    });
    ctx.status = 201;
    ctx.body = {
      id: result.id,
      kind: result.kind,
      recordedAt: result.recordedAt.toISOString(),
      results: result.results,
      notes: result.notes ?? null,
    };
  });

  router.get('/plans/latest', async (ctx: Context) => {
    const plan = await findLatestPlan(ctx.state.em, ctx.state.user.id);
    if (!plan) throw new NotFoundError('plan_not_found', 'You have no plan yet.');
    ctx.body = planView(plan);
  });

  router.get('/plans/:id', async (ctx: Context) => {
    const id = ctx.params.id;
    if (!uuidSchema.safeParse(id).success)
      throw new BadRequestError('invalid_plan_id', 'Plan id must be a UUID.');
    const plan = await findOwnPlan(ctx.state.em, ctx.state.user.id, id!);
    if (!plan) throw new NotFoundError('plan_not_found', 'No such plan.');
    ctx.body = planView(plan);
  });

  return router;
}
