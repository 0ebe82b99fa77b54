import { randomUUID } from 'node:crypto';
import { Application, Subscription, Survey, TelegramUser } from '../../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID, type EntityManager } from '../../src/db/orm.ts';
import { queueNotification } from '../../src/domain/notifications.ts';
import { validAnswers } from './init-data.ts';

/** Inserts users directly (what /start or the Mini App would have created). */
export async function seedUsers(
  em: EntityManager,
  telegramIds: (number | string)[],
  fields: Partial<
    Pick<TelegramUser, 'isClient' | 'role' | 'unreachableAt' | 'languageCode' | 'tenantId' | 'firstName'>
  > = {},
): Promise<TelegramUser[]> {
  const now = new Date();
  const users = telegramIds.map((id) =>
    em.create(TelegramUser, {
      id: randomUUID(),
      tenantId: DEFAULT_TENANT_ID,
      telegramId: String(id),
      firstName: `User ${id}`,
      createdAt: now,
      updatedAt: now,
      ...fields,
    }),
  );
  await em.flush();
  return users;
}

/** An applicant: a user with a survey and an application in status `new`. */
export async function seedApplicant(em: EntityManager, user: TelegramUser): Promise<void> {
  const now = new Date();
  const survey = em.create(Survey, {
    id: randomUUID(),
    tenantId: user.tenantId,
    userId: user.id,
    answers: { ...validAnswers, equipment: [...validAnswers.equipment] },
    createdAt: now,
  });
  em.create(Application, {
    id: randomUUID(),
    tenantId: user.tenantId,
    userId: user.id,
    surveyId: survey.id,
    status: 'new',
    createdAt: now,
  });
  await em.flush();
}

/** Pending notifications with their outbox rows, exactly as a domain transaction writes them. */
export async function seedNotifications(
  em: EntityManager,
  users: TelegramUser[],
  text = (u: TelegramUser) => `Hello ${u.telegramId}`,
) {
  const now = new Date();
  const rows = users.map(
    (user) =>
      queueNotification(em, {
        tenantId: user.tenantId,
        user,
        kind: 'test',
        dedupeKey: `test:${randomUUID()}`,
        text: text(user),
        button: null,
        now,
      }).id,
  );
  await em.flush();
  return rows;
}

/**
 * A subscription row as payments or billing.sync would have left it: a renewing Stars subscription
 * paid for 30 more days unless `fields` say otherwise. Flush is the caller's (seed many at once).
 */
export function seedSubscription(
  em: EntityManager,
  user: Pick<TelegramUser, 'id' | 'tenantId'>,
  fields: Partial<Subscription> = {},
): Subscription {
  const now = new Date();
  return em.create(Subscription, {
    id: randomUUID(),
    tenantId: user.tenantId,
    userId: user.id,
    provider: 'stars',
    planTitle: 'Monthly coaching',
    status: 'active',
    renews: true,
    price: 250,
    currency: 'XTR',
    currentPeriodEnd: new Date(now.getTime() + 30 * 24 * 3600_000),
    startedAt: now,
    createdAt: now,
    updatedAt: now,
    ...fields,
  });
}
