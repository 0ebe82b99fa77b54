import { randomUUID } from 'node:crypto';
import type { EntityManager } from '../db/orm.ts';
import { outboxRowOf } from '../queue/outbox-writer.ts';
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

/*
 * The statements of a submission, fixed texts with parameters: this is the Mini App's busiest
 * write, and building them from criteria and entities through the unit of work cost several times
 * the SQL itself (issue 13's profiles). Raw SQL skips the ORM's tenant filter, so every statement
 * names the tenant. The benchmark's baseline runs these exact texts.
 */

/**
 * Locks the applicant's row for the rest of the transaction (FOR NO KEY UPDATE, for the reason
 * given in db/lock-users.ts) and reads, in the same statement, what the admins' alert shows.
 */
export const LOCK_APPLICANT =
  'select telegram_id, first_name, username from telegram_user where id = ? and tenant_id = ? for no key update';

/** Plans that count against the rolling 24-hour quota: how many, and when the oldest was made. */
export const SELECT_PLAN_QUOTA =
  'select count(*)::int as used, min(created_at) as oldest from personal_plan ' +
  "where tenant_id = ? and user_id = ? and created_at > ? and status != 'failed'";

/**
 * The survey, its application, the queued plan and the plan's outbox job, in one statement (one
 * round trip). Foreign keys are checked at commit (deferred), so the order of the parts is free.
 */
export const INSERT_SUBMISSION = `with survey_row as (
  insert into survey (id, tenant_id, user_id, answers, created_at) values (?, ?, ?, ?, ?)
), application_row as (
  insert into application (id, tenant_id, user_id, survey_id, status, created_at) values (?, ?, ?, ?, 'new', ?)
), plan_row as (
  insert into personal_plan (id, tenant_id, user_id, survey_id, status, attempts, created_at, updated_at)
  values (?, ?, ?, ?, 'queued', 0, ?, ?)
)
insert into outbox (tenant_id, queue, job_name, job_id, payload, attempts, created_at) values (?, ?, ?, ?, ?, 0, ?)`;

/** INSERT_SUBMISSION's parameters, in its order. */
export function submissionParams(
  input: { tenantId: string; userId: string; answers: SurveyAnswers },
  ids: SubmittedSurvey,
  now: Date,
): unknown[] {
  const { tenantId, userId } = input;
  const job = outboxRowOf('plans.generate', { tenantId, planId: ids.planId });
  return [
    ...[ids.surveyId, tenantId, userId, JSON.stringify(input.answers), now],
    ...[ids.applicationId, tenantId, userId, ids.surveyId, now],
    ...[ids.planId, tenantId, userId, ids.surveyId, now, now],
    ...[job.tenantId, job.queue, job.jobName, job.jobId, JSON.stringify(job.payload), now],
  ];
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
  const ids = { surveyId: randomUUID(), applicationId: randomUUID(), planId: randomUUID() };
  return em.transactional(async (tx) => {
    // Serialises concurrent submissions of one user so the quota cannot be raced past.
    const [locked] = await tx.execute<
      Array<{ telegram_id: string; first_name: string; username: string | null }>
    >(LOCK_APPLICANT, [input.userId, input.tenantId], 'all');
    if (!locked) throw new Error(`telegram_user ${input.userId} not found`);

    const windowStart = new Date(now.getTime() - DAY_MS);
    const [quota] = await tx.execute<Array<{ used: number; oldest: string | null }>>(
      SELECT_PLAN_QUOTA,
      [input.tenantId, input.userId, windowStart],
      'all',
    );
    if (quota && quota.oldest !== null && quota.used >= input.plansPerDay) {
      const oldest = tx.getPlatform().parseDate(quota.oldest);
      const retryAfterSeconds = (oldest.getTime() + DAY_MS - now.getTime()) / 1000;
      throw new TooManyRequestsError(
        'plan_quota_exceeded',
        `You can request ${input.plansPerDay} plans per day; try again later.`,
        retryAfterSeconds,
      );
    }

    // Alerts first, as before: their admin read sees the same rows whichever way the inserts go.
    await queueNewApplicationAlerts(tx, {
      tenantId: input.tenantId,
      applicationId: ids.applicationId,
      applicant: {
        id: input.userId,
        telegramId: locked.telegram_id,
        firstName: locked.first_name,
        username: locked.username,
      },
      answers: input.answers,
      configuredOwners: input.configuredOwners ?? [],
      now,
    });
    await tx.execute(INSERT_SUBMISSION, submissionParams(input, ids, now), 'run');
    await triggerMetricsRecompute(tx, input.tenantId, now);
    // The alerts' notification rows (none when no admin is to be told) are written by the flush
    // that transactional() makes before it commits.
    return ids;
  });
}
