import { randomUUID } from 'node:crypto';
import { Application, PersonalPlan, Survey, TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import type { EntityManager } from '../db/orm.ts';
import { enqueue } from '../queue/outbox-writer.ts';
import { queueNewApplicationAlerts } from './admin-alerts.ts';
import { TooManyRequestsError } from './errors.ts';
import { triggerMetricsRecompute } from './metrics-trigger.ts';
import type { SurveyAnswers } from './survey-answers.ts';

const DAY_MS = 24 * 3600_000;

export interface SubmittedSurvey {
  surveyId: string;
  applicationId: string;
  planId: string;
}

/**
 * Stores the survey, the panel application, the queued plan, the admins' "new application"
 * messages and the outbox records in one transaction: either the client's request exists
 * completely and will be processed, or not at all.
 * The quota is a rolling 24 hours; plans that failed do not count against it.
 */
export async function submitSurvey(
  em: EntityManager,
  input: {
    tenantId: string;
    userId: string;
    answers: SurveyAnswers;
    plansPerDay: number;
    /** TELEGRAM_ADMINS, who get the "new application" alert as owners. */
    configuredOwners?: string[];
    now?: Date;
  },
): Promise<SubmittedSurvey> {
  const now = input.now ?? new Date();
  return em.transactional(async (tx) => {
    // Serialises concurrent submissions of one user so the quota cannot be raced past.
    await lockUsers(tx, input.tenantId, { id: input.userId });
    const applicant = await tx.findOneOrFail(TelegramUser, { id: input.userId }, { refresh: true });

    const windowStart = new Date(now.getTime() - DAY_MS);
    const recent = await tx.find(
      PersonalPlan,
      { userId: input.userId, createdAt: { $gt: windowStart }, status: { $ne: 'failed' } },
      { orderBy: { createdAt: 'asc' }, fields: ['id', 'createdAt'] },
    );
    if (recent.length >= input.plansPerDay) {
      const oldest = recent[0]!.createdAt;
      const retryAfterSeconds = (oldest.getTime() + DAY_MS - now.getTime()) / 1000;
      throw new TooManyRequestsError(
        'plan_quota_exceeded',
        `You can request ${input.plansPerDay} plans per day; try again later.`,
        retryAfterSeconds,
      );
    }

    const survey = tx.create(Survey, {
      id: randomUUID(),
      tenantId: input.tenantId,
      userId: input.userId,
      answers: input.answers,
      createdAt: now,
    });
    const application = tx.create(Application, {
      id: randomUUID(),
      tenantId: input.tenantId,
      userId: input.userId,
      surveyId: survey.id,
      status: 'new',
      createdAt: now,
    });
    const plan = tx.create(PersonalPlan, {
      id: randomUUID(),
      tenantId: input.tenantId,
      userId: input.userId,
      surveyId: survey.id,
      status: 'queued',
      createdAt: now,
      updatedAt: now,
    });
    enqueue(tx, 'plans.generate', { tenantId: input.tenantId, planId: plan.id }, now);
    await queueNewApplicationAlerts(tx, {
      tenantId: input.tenantId,
      applicationId: application.id,
      applicant,
      answers: input.answers,
      configuredOwners: input.configuredOwners ?? [],
      now,
    });
    await tx.flush();
    await triggerMetricsRecompute(tx, input.tenantId, now);
    return { surveyId: survey.id, applicationId: application.id, planId: plan.id };
  });
}
