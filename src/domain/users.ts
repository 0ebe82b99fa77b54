import { randomUUID } from 'node:crypto';
import { TelegramUser } from '../db/entities/index.ts';
import type { EntityManager } from '../db/orm.ts';
import type { InitDataUser } from '../telegram/init-data.ts';
import { userReachability } from './user-reachability.ts';

/** Writing on every request would turn reads into writes; refresh the profile at most this often. */
const SEEN_REFRESH_MS = 5 * 60_000;

function profileChanged(user: TelegramUser, profile: InitDataUser): boolean {
  return (
    user.firstName !== profile.firstName ||
    user.lastName !== profile.lastName ||
    user.username !== profile.username ||
    user.languageCode !== profile.languageCode ||
    user.isPremium !== profile.isPremium
  );
}

/**
 * The user row every Mini App request reads, as one fixed parameterised statement. The ORM's
 * `findOne` would rebuild it from a criteria object on every request (most of the web process's
 * CPU in the profiles of issue 13); the tenant condition is written out because raw SQL does not
 * go through the tenant filter. The benchmarks' baselines run this exact text.
 */
export const SELECT_USER_BY_TELEGRAM_ID =
  'select * from telegram_user where tenant_id = ? and telegram_id = ? limit 1';

/**
 * The user of (tenant, Telegram id), or null. `em.map` makes it a managed entity of `em` (in its
 * identity map, with its snapshot) exactly as `findOne` would, so handlers that change the
 * caller's row, or load it again, see the same instance.
 */
export async function findUserByTelegramId(
  em: EntityManager,
  tenantId: string,
  telegramId: string,
): Promise<TelegramUser | null> {
  const row = await em.execute(SELECT_USER_BY_TELEGRAM_ID, [tenantId, telegramId], 'get');
  return row ? em.map(TelegramUser, row) : null;
}

/**
 * Creates the user on first sight and keeps the Telegram profile fresh. Role and client status
 * are never touched here: they belong to the coach, not to what the client's app says.
 */
export async function upsertTelegramUser(
  em: EntityManager,
  tenantId: string,
  profile: InitDataUser,
  now = new Date(),
): Promise<TelegramUser> {
  const existing = await findUserByTelegramId(em, tenantId, profile.id);
  const fresh = existing?.lastSeenAt && now.getTime() - existing.lastSeenAt.getTime() < SEEN_REFRESH_MS;
  if (existing && fresh && !profileChanged(existing, profile)) return existing;

  const fields = {
    firstName: profile.firstName,
    lastName: profile.lastName,
    username: profile.username,
    languageCode: profile.languageCode,
    isPremium: profile.isPremium,
    lastSeenAt: now,
    updatedAt: now,
  };
  return upsertByTelegramId(em, { tenantId, telegramId: profile.id, existingId: existing?.id, now }, fields);
}

/**
 * A Telegram Login Widget login (the panel in a browser): the widget carries name and username but
 * no language or premium flag, so only what it carries is written.
 */
export async function upsertWidgetUser(
  em: EntityManager,
  tenantId: string,
  profile: { id: string; firstName: string; lastName: string | null; username: string | null },
  existingId: string | undefined,
  now = new Date(),
): Promise<TelegramUser> {
  const fields = {
    firstName: profile.firstName,
    lastName: profile.lastName,
    username: profile.username,
    lastSeenAt: now,
    updatedAt: now,
  };
  return upsertByTelegramId(em, { tenantId, telegramId: profile.id, existingId, now }, fields);
}

/** A request on a panel session: keeps last_seen_at (DAU/WAU/MAU) as fresh as initData requests do. */
export async function markSeen(em: EntityManager, user: TelegramUser, now = new Date()): Promise<void> {
  if (user.lastSeenAt && now.getTime() - user.lastSeenAt.getTime() < SEEN_REFRESH_MS) return;
  // A native update: the loaded entity stays clean, so a handler's flush writes nothing extra.
  await em.nativeUpdate(TelegramUser, { id: user.id }, { lastSeenAt: now });
}

type ProfileFields = Partial<
  Pick<
    TelegramUser,
    | 'firstName'
    | 'lastName'
    | 'username'
    | 'languageCode'
    | 'isPremium'
    | 'lastSeenAt'
    | 'unreachableAt'
    | 'updatedAt'
  >
>;

/** Insert or update by (tenant, Telegram id), overwriting only `fields`: role and client status stay. */
function upsertByTelegramId(
  em: EntityManager,
  key: { tenantId: string; telegramId: string; existingId: string | undefined; now: Date },
  fields: ProfileFields,
): Promise<TelegramUser> {
  return em.upsert(
    TelegramUser,
    {
      id: key.existingId ?? randomUUID(),
      tenantId: key.tenantId,
      telegramId: key.telegramId,
      createdAt: key.now,
      ...fields,
    },
    {
      onConflictFields: ['tenantId', 'telegramId'],
      onConflictMergeFields: Object.keys(fields) as (keyof ProfileFields)[],
    },
  );
}

export interface BotUserProfile {
  telegramId: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  languageCode: string | null;
}

/**
 * A user who (re)started the bot: create or refresh them, and make them reachable again —
 * a /start after blocking the bot is Telegram telling us messages will be delivered again.
 * Shared by the bot's /start handler and POST /api/bot/users.
 */
export async function registerBotUser(
  em: EntityManager,
  tenantId: string,
  profile: BotUserProfile,
  now = new Date(),
): Promise<{ user: TelegramUser; created: boolean }> {
  const existing = await em.findOne(TelegramUser, { tenantId, telegramId: profile.telegramId });
  const fields = {
    firstName: profile.firstName,
    lastName: profile.lastName,
    username: profile.username,
    languageCode: profile.languageCode,
    ...userReachability.reachableFields,
    updatedAt: now,
  };
  const user = await upsertByTelegramId(
    em,
    { tenantId, telegramId: profile.telegramId, existingId: existing?.id, now },
    fields,
  );
  return { user, created: !existing };
}
