import { TelegramUser } from '../db/entities/index.ts';
import { ADMIN_ROLES, type AdminRole } from '../db/entities/telegram-user.entity.ts';
import type { EntityManager } from '../db/orm.ts';
import { goalLabel, newApplicationMessage } from './notification-texts.ts';
import { queueNotification } from './notifications.ts';
import { effectiveRole, hasPermission, type Permission } from './permissions.ts';
import type { SurveyAnswers } from './survey-answers.ts';

type AdminRow = { id: string; telegram_id: string; role: AdminRole | null; language_code: string | null };

/** Who hears of a new application: everyone who may see it in the panel. */
const ALERT_PERMISSION: Permission = 'view_applications';

/** The caller's own alert settings (GET/PUT /api/panel/me/preferences). */
export interface AlertPreferences {
  notifyNewApplications: boolean;
}

/**
 * Queues one "new application" message per admin who may see applications, has not turned these
 * messages off and is reachable, in the caller's transaction (submitSurvey's): the messages exist
 * exactly when the application does, and go out through the paced, at-most-once notifications
 * queue. The applicant never gets an alert about their own application. One query for the admins
 * (the partial role index and the (tenant, telegram_id) key; a coach has a handful), rows created
 * in the caller's unit of work and written with its flush. Returns how many were queued.
 */
export async function queueNewApplicationAlerts(
  tx: EntityManager,
  input: {
    tenantId: string;
    applicationId: string;
    applicant: Pick<TelegramUser, 'id' | 'telegramId' | 'firstName' | 'username'>;
    answers: Pick<SurveyAnswers, 'goal'>;
    /** TELEGRAM_ADMINS: owners whatever their row says (ensureConfiguredOwners also stores them as owners). */
    configuredOwners: string[];
    now: Date;
  },
): Promise<number> {
  const roles = ADMIN_ROLES.filter((role) => hasPermission(role, ALERT_PERMISSION));
  const configured = hasPermission('owner', ALERT_PERMISSION) ? input.configuredOwners : [];
  // A fixed statement rather than criteria rebuilt on every survey (issue 13's profiles: a tenth of
  // a submission's CPU). Raw SQL skips the tenant filter, so the tenant is named; arrays expand.
  const rows = await tx.execute<AdminRow[]>(
    'select id, telegram_id, role, language_code from telegram_user where tenant_id = ? and (role in (?)' +
      (configured.length ? ' or telegram_id in (?)' : '') +
      ') and notify_new_applications = true and unreachable_at is null and id != ?',
    [input.tenantId, roles, ...(configured.length ? [configured] : []), input.applicant.id],
    'all',
  );
  const admins = rows.map((row) => ({
    id: row.id,
    telegramId: row.telegram_id,
    role: row.role,
    languageCode: row.language_code,
  }));
  const applicant = applicantName(input.applicant);
  let queued = 0;
  for (const admin of admins) {
    if (!hasPermission(effectiveRole(admin, input.configuredOwners), ALERT_PERMISSION)) continue;
    const language = admin.languageCode ?? null;
    const message = newApplicationMessage(language, applicant, goalLabel(language, input.answers.goal));
    queueNotification(tx, {
      tenantId: input.tenantId,
      user: admin,
      kind: 'new_application',
      dedupeKey: `new_application:${input.applicationId}:${admin.id}`,
      text: message.text,
      // No button yet: the panel has no page to open for one application.
      button: null,
      now: input.now,
    });
    queued++;
  }
  return queued;
}

/** "Anna @anna_fit", "Anna", "@anna_fit", or the Telegram id when the profile has neither. */
export function applicantName(user: Pick<TelegramUser, 'telegramId' | 'firstName' | 'username'>): string {
  const parts = [user.firstName?.trim(), user.username ? `@${user.username}` : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : user.telegramId;
}

/** Read from the primary, past the identity map: right after a PUT the caller sees their change. */
export async function getAlertPreferences(em: EntityManager, userId: string): Promise<AlertPreferences> {
  const row = await em
    .createQueryBuilder(TelegramUser)
    .select(['notifyNewApplications'])
    .where({ id: userId })
    .execute('get');
  if (!row) throw new Error(`telegram_user ${userId} not found`);
  return { notifyNewApplications: row.notifyNewApplications };
}

/** Changes only the caller's own row. */
export async function setAlertPreferences(
  em: EntityManager,
  userId: string,
  preferences: AlertPreferences,
): Promise<AlertPreferences> {
  await em.nativeUpdate(
    TelegramUser,
    { id: userId },
    { notifyNewApplications: preferences.notifyNewApplications, updatedAt: new Date() },
  );
  return { notifyNewApplications: preferences.notifyNewApplications };
}
