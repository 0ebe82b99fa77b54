import { LockMode } from '@mikro-orm/postgresql';
import type { ApplicationStatus } from '../db/entities/application.entity.ts';
import { Application, PersonalPlan, Survey, TelegramUser } from '../db/entities/index.ts';
import { lockUsers } from '../db/lock-users.ts';
import type { EntityManager } from '../db/orm.ts';
import { writeAudit } from './audit-log.ts';
import { AppError, NotFoundError } from './errors.ts';
import { type KeysetPosition, NEWEST_FIRST, olderThan, type Page, toPage } from './keyset.ts';
import { triggerMetricsRecompute } from './metrics-trigger.ts';
import { acceptedMessage } from './notification-texts.ts';
import { queueClientMessage } from './notifications.ts';

export interface ApplicationView {
  id: string;
  status: ApplicationStatus;
  createdAt: string;
  decidedAt: string | null;
  user: { telegramId: string; firstName: string; lastName: string | null; username: string | null } | null;
  survey: { goal: string; experience: string; daysPerWeek: number } | null;
  /** The plan generated from this application's survey (one per survey), i.e. its latest plan. */
  plan: { id: string; status: string } | null;
}

/**
 * Newest first, optionally one status; read from a replica when configured. The page's users,
 * surveys and plans come from one `in (...)` query each, never a query per row.
 */
export async function listApplications(
  em: EntityManager,
  page: { limit: number; after?: KeysetPosition; status?: ApplicationStatus },
): Promise<Page<ApplicationView>> {
  const read = { connectionType: 'read' } as const;
  const rows = await em.find(
    Application,
    { ...(page.status ? { status: page.status } : {}), ...olderThan(page.after) },
    { ...read, orderBy: NEWEST_FIRST, limit: page.limit + 1 },
  );
  const { items, next } = toPage(rows, page.limit);
  if (items.length === 0) return { items: [], next };
  // Only the columns the list shows: a ready plan's content is kilobytes of JSON per row (TOASTed,
  // so reading it costs extra page reads and decompression), and the page never shows it.
  const [users, surveys, plans] = await Promise.all([
    em.find(
      TelegramUser,
      { id: { $in: [...new Set(items.map((row) => row.userId))] } },
      { ...read, fields: ['telegramId', 'firstName', 'lastName', 'username'] },
    ),
    em.find(Survey, { id: { $in: items.map((row) => row.surveyId) } }, { ...read, fields: ['answers'] }),
    em.find(
      PersonalPlan,
      { surveyId: { $in: items.map((row) => row.surveyId) } },
      { ...read, fields: ['surveyId', 'status'] },
    ),
  ]);
  const userById = new Map(users.map((user) => [user.id, user]));
  const surveyById = new Map(surveys.map((survey) => [survey.id, survey]));
  const planBySurvey = new Map(plans.map((plan) => [plan.surveyId, plan]));
  return {
    next,
    items: items.map((row) => {
      const user = userById.get(row.userId);
      const answers = surveyById.get(row.surveyId)?.answers;
      const plan = planBySurvey.get(row.surveyId);
      return {
        id: row.id,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        decidedAt: row.decidedAt?.toISOString() ?? null,
        user: user
          ? {
              telegramId: user.telegramId,
              firstName: user.firstName,
              lastName: user.lastName ?? null,
              username: user.username ?? null,
            }
          : null,
        survey: answers
          ? { goal: answers.goal, experience: answers.experience, daysPerWeek: answers.daysPerWeek }
          : null,
        plan: plan ? { id: plan.id, status: plan.status } : null,
      };
    }),
  };
}

export interface DecisionInput {
  tenantId: string;
  actorId: string;
  applicationId: string;
  decision: 'accept' | 'reject';
  miniAppUrl?: string;
}

/**
 * new → accepted | rejected, once. The application row is locked, so two coaches deciding at the
 * same moment get one decision and one 409. Accepting makes the applicant a client and queues
 * their "you were accepted" message (dedupe key `application_accepted:<id>`); the decision, the
 * audit record, the notification and its outbox row commit together or not at all.
 */
export async function decideApplication(
  em: EntityManager,
  input: DecisionInput,
): Promise<{ application: Application; user: TelegramUser }> {
  return em.transactional(async (tx) => {
    const application = await tx.findOne(
      Application,
      { id: input.applicationId },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!application) throw new NotFoundError('application_not_found', 'No such application.');
    if (application.status !== 'new') {
      throw new AppError(409, 'already_decided', `This application was already ${application.status}.`);
    }
    await lockUsers(tx, input.tenantId, { id: application.userId });
    const user = await tx.findOneOrFail(TelegramUser, { id: application.userId }, { refresh: true });
    const now = new Date();
    application.status = input.decision === 'accept' ? 'accepted' : 'rejected';
    application.decidedAt = now;
    application.decidedBy = input.actorId;
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: input.decision === 'accept' ? 'application.accept' : 'application.reject',
      targetType: 'application',
      targetId: application.id,
      details: { userId: user.id, telegramId: user.telegramId, wasClient: user.isClient },
      at: now,
    });
    if (input.decision === 'accept') {
      user.isClient = true;
      queueClientMessage(tx, {
        tenantId: input.tenantId,
        user,
        kind: 'application_accepted',
        dedupeKey: `application_accepted:${application.id}`,
        message: acceptedMessage(user.languageCode ?? null, user.firstName || null),
        miniAppUrl: input.miniAppUrl,
        now,
      });
    }
    await tx.flush();
    // The panel's application and subscriber counts change with the decision.
    await triggerMetricsRecompute(tx, input.tenantId, now);
    return { application, user };
  });
}
