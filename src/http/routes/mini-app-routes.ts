import { z } from 'zod';
import { PersonalPlan, TestResult } from '../../db/entities/index.ts';
import { TEST_RESULT_KINDS } from '../../db/entities/test-result.entity.ts';
import { NotFoundError, TooManyRequestsError } from '../../domain/errors.ts';
import { NEWEST_FIRST, olderThan, toPage } from '../../domain/keyset.ts';
import { findLatestPlan, findOwnPlan, planView } from '../../domain/plans.ts';
import { EXAMPLE_ANSWERS, surveyAnswersSchema } from '../../domain/survey-answers.ts';
import { submitSurvey } from '../../domain/surveys.ts';
import { recordTestResult, testResultBodySchema } from '../../domain/test-results.ts';
import { pageBody, pageQueryShape, pageSchema } from '../cursor.ts';
import { MINI_APP } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { errorSchema, planSchema, userProfileShape, uuid } from '../schemas.ts';
import { userProfile } from '../user-profile.ts';

/** DESIGN.md: 100 test/check-in results per hour per user. */
export const TEST_RESULTS_PER_HOUR = 100;

const tags = ['Mini App'];

const testResultSchema = z.object({
  id: z.uuid(),
  kind: z.enum(TEST_RESULT_KINDS),
  recordedAt: z.string(),
  results: z.record(z.string(), z.number()),
  notes: z.string().nullable(),
});

function testResultView(result: TestResult) {
  return {
    id: result.id,
    kind: result.kind,
    recordedAt: result.recordedAt.toISOString(),
    results: result.results,
    notes: result.notes ?? null,
  };
}

export const miniAppRoutes = [
  defineRoute({
    name: 'getMe',
    method: 'GET',
    path: '/api/me',
    summary: 'The caller: profile, role, client status, subscription and latest plan',
    tags,
    access: MINI_APP,
    responses: { 200: { description: 'The caller', schema: z.object(userProfileShape) } },
    async handler(request) {
      return { status: 200, body: await userProfile(request, request.user) };
    },
  }),

  defineRoute({
    name: 'submitSurvey',
    method: 'POST',
    path: '/api/surveys',
    summary: 'Submit the intake survey; a personal plan is generated in the background',
    tags,
    access: MINI_APP,
    body: z
      .object({ answers: surveyAnswersSchema })
      .strict()
      .meta({
        examples: [{ answers: EXAMPLE_ANSWERS }],
      }),
    responses: {
      202: {
        description: 'Accepted; poll the plan at the Location header',
        schema: z.object({
          surveyId: z.uuid(),
          applicationId: z.uuid(),
          plan: z.object({ id: z.uuid(), status: z.literal('queued') }),
        }),
      },
      429: { description: 'Daily plan quota used up (PLANS_PER_USER_PER_DAY)', schema: errorSchema },
    },
    async handler({ body, user, em, tenantId, tenant }, deps) {
      const now = new Date();
      const result = await submitSurvey(em, {
        tenantId,
        userId: user.id,
        answers: body.answers,
        plansPerDay: deps.config.plans.perUserPerDay,
        configuredOwners: tenant.configuredOwners,
        now,
      });
      // After the commit: the panel must never hear of an application that was rolled back.
      deps.liveEvents.publish(tenantId, {
        type: 'application.created',
        applicationId: result.applicationId,
        userId: user.id,
        telegramId: user.telegramId,
        createdAt: now.toISOString(),
      });
      return {
        status: 202,
        headers: { Location: `/api/plans/${result.planId}` },
        body: {
          surveyId: result.surveyId,
          applicationId: result.applicationId,
          plan: { id: result.planId, status: 'queued' as const },
        },
      };
    },
  }),

  defineRoute({
    name: 'recordTestResult',
    method: 'POST',
    path: '/api/test-results',
    summary: 'Record a fitness test or check-in (100 per hour per user)',
    tags,
    access: MINI_APP,
    body: testResultBodySchema.meta({
      examples: [{ kind: 'check_in', results: { weightKg: 71.5, energy: 7 }, notes: 'Felt strong' }],
    }),
    responses: {
      201: { description: 'Recorded', schema: testResultSchema },
      429: { description: 'Over 100 results this hour', schema: errorSchema },
    },
    async handler({ body, user, em, tenantId }, deps) {
      const limit = await deps.testResultLimiter.consume(user.id);
      if (!limit.allowed) {
        throw new TooManyRequestsError(
          'test_results_rate_limited',
          `You can record ${TEST_RESULTS_PER_HOUR} results per hour; try again later.`,
          limit.retryAfterMs / 1000,
        );
      }
      const result = await recordTestResult(em, { tenantId, userId: user.id, body });
      return { status: 201, body: testResultView(result) };
    },
  }),

  defineRoute({
    name: 'listTestResults',
    method: 'GET',
    path: '/api/test-results',
    summary: "The caller's test results and check-ins, newest entered first (keyset paged)",
    tags,
    access: MINI_APP,
    query: z.object(pageQueryShape),
    responses: { 200: { description: 'One page', schema: pageSchema(testResultSchema) } },
    async handler({ query, user, em }) {
      const rows = await em.find(
        TestResult,
        { userId: user.id, ...olderThan(query.cursor) },
        { orderBy: NEWEST_FIRST, limit: query.limit + 1 },
      );
      const page = toPage(rows, query.limit);
      return { status: 200, body: pageBody(page.items.map(testResultView), page.next) };
    },
  }),

  defineRoute({
    name: 'listPlans',
    method: 'GET',
    path: '/api/plans',
    summary: "The caller's plans without their content, newest first (keyset paged)",
    tags,
    access: MINI_APP,
    query: z.object(pageQueryShape),
    responses: { 200: { description: 'One page', schema: pageSchema(planSchema.omit({ content: true })) } },
    async handler({ query, user, em }) {
      const rows = await em.find(
        PersonalPlan,
        { userId: user.id, ...olderThan(query.cursor) },
        { orderBy: NEWEST_FIRST, limit: query.limit + 1 },
      );
      const page = toPage(rows, query.limit);
      return {
        status: 200,
        body: pageBody(
          page.items.map((plan) => planView(plan, false)),
          page.next,
        ),
      };
    },
  }),

  defineRoute({
    name: 'getLatestPlan',
    method: 'GET',
    path: '/api/plans/latest',
    summary: "The caller's newest plan",
    tags,
    access: MINI_APP,
    responses: {
      200: { description: 'The plan', schema: planSchema },
      404: { description: 'No plan yet', schema: errorSchema },
    },
    async handler({ user, em }) {
      const plan = await findLatestPlan(em, user.id);
      if (!plan) throw new NotFoundError('plan_not_found', 'You have no plan yet.');
      return { status: 200, body: planView(plan) };
    },
  }),

  defineRoute({
    name: 'getPlan',
    method: 'GET',
    path: '/api/plans/:planId',
    summary: "One of the caller's plans (another user's plan is 404)",
    tags,
    access: MINI_APP,
    params: z.object({ planId: uuid }),
    responses: {
      200: { description: 'The plan', schema: planSchema },
      404: { description: 'No such plan of the caller', schema: errorSchema },
    },
    async handler({ params, user, em }) {
      const plan = await findOwnPlan(em, user.id, params.planId);
      if (!plan) throw new NotFoundError('plan_not_found', 'No such plan.');
      return { status: 200, body: planView(plan) };
    },
  }),
];
