import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { TelegramUser } from '../db/entities/index.ts';
import { ADMIN_ROLES, type AdminRole } from '../db/entities/telegram-user.entity.ts';
import { lockUsers } from '../db/lock-users.ts';
import { type EntityManager, forkForTenant } from '../db/orm.ts';
import { writeAudit } from './audit-log.ts';
import { AppError, NotFoundError } from './errors.ts';
import { endPanelSessionsOf } from './panel-sessions.ts';
import { effectiveRole } from './permissions.ts';

/**
 * TELEGRAM_ADMINS become owners in the database at boot, so the admin list and the last-owner count
 * see them. effectiveRole already treats them as owners before this runs (or if it fails).
 * Roles written this way are marked `role_from_config`; an id removed from TELEGRAM_ADMINS loses
 * that role at the next boot (audited), so taking someone out of the environment really revokes
 * them. An owner granted through the API keeps their role: it was never the environment's.
 */
export async function ensureConfiguredOwners(
  orm: MikroORM,
  tenantId: string,
  telegramIds: string[],
): Promise<{ revoked: string[] }> {
  const em = forkForTenant(orm, tenantId);
  return em.transactional(async (tx) => {
    const connection = tx.getConnection();
    const ctx = tx.getTransactionContext();
    const now = new Date();
    for (const telegramId of telegramIds) {
      await connection.execute(
        `insert into telegram_user (id, tenant_id, telegram_id, role, role_from_config, created_at, updated_at)
         values (?, ?, ?, 'owner', true, ?, ?)
         on conflict (tenant_id, telegram_id) do update set
           role_from_config = telegram_user.role_from_config or telegram_user.role is distinct from 'owner',
           role = 'owner', updated_at = excluded.updated_at`,
        [randomUUID(), tenantId, telegramId, now, now],
        'run',
        ctx,
      );
    }
    const stillConfigured = telegramIds.length
      ? `and telegram_id not in (${telegramIds.map(() => '?').join(', ')})`
      : '';
    const revoked = await connection.execute<{ id: string; telegram_id: string }[]>(
      `update telegram_user set role = null, role_from_config = false, updated_at = ?
       where tenant_id = ? and role_from_config ${stillConfigured}
       returning id, telegram_id`,
      [now, tenantId, ...telegramIds],
      'all',
      ctx,
    );
    for (const row of revoked) {
      await endPanelSessionsOf(tx, tenantId, String(row.telegram_id));
      writeAudit(tx, {
        tenantId,
        actorId: row.id,
        action: 'admin.revoke',
        targetType: 'user',
        targetId: String(row.telegram_id),
        details: { telegramId: String(row.telegram_id), from: 'owner', to: null, source: 'TELEGRAM_ADMINS' },
        at: now,
      });
    }
    await tx.flush();
    return { revoked: revoked.map((row) => String(row.telegram_id)) };
  });
}

export interface AdminView {
  telegramId: string;
  firstName: string;
  lastName: string | null;
  username: string | null;
  role: AdminRole;
  /** Set in TELEGRAM_ADMINS: an owner whatever the database says; change it there. */
  configured: boolean;
}

export async function listAdmins(em: EntityManager, configuredOwners: string[]): Promise<AdminView[]> {
  const users = await em.find(
    TelegramUser,
    { $or: [{ role: { $ne: null } }, { telegramId: { $in: configuredOwners } }] },
    { connectionType: 'read' },
  );
  return users
    .map((user) => adminView(user, configuredOwners)!)
    .sort(
      (a, b) =>
        ADMIN_ROLES.indexOf(a.role) - ADMIN_ROLES.indexOf(b.role) ||
        a.telegramId.localeCompare(b.telegramId, 'en', { numeric: true }),
    );
}

/** One admin by Telegram id; null when that id has no role (or never reached us). */
export async function findAdmin(
  em: EntityManager,
  telegramId: string,
  configuredOwners: string[],
): Promise<AdminView | null> {
  const user = await em.findOne(TelegramUser, { telegramId }, { connectionType: 'read' });
  return user ? adminView(user, configuredOwners) : null;
}

function adminView(user: TelegramUser, configuredOwners: string[]): AdminView | null {
  const role = effectiveRole(user, configuredOwners);
  if (!role) return null;
  return {
    telegramId: user.telegramId,
    firstName: user.firstName,
    lastName: user.lastName ?? null,
    username: user.username ?? null,
    role,
    configured: configuredOwners.includes(user.telegramId),
  };
}

export interface RoleChangeInput {
  tenantId: string;
  actorId: string;
  telegramId: string;
  /** null revokes. */
  role: AdminRole | null;
  configuredOwners: string[];
}

export interface RoleChange {
  user: TelegramUser;
  from: AdminRole | null;
  to: AdminRole | null;
  changed: boolean;
}

/**
 * Grants, changes or revokes a role. Every owner row is locked first (`for update`), so role changes
 * in a tenant run one at a time: two owners demoting each other cannot both see "one owner left".
 * PostgreSQL re-checks `role = 'owner'` after the wait, so the second one counts the first's result.
 */
export async function setAdminRole(em: EntityManager, input: RoleChangeInput): Promise<RoleChange> {
  return em.transactional(async (tx) => {
    await lockUsers(tx, input.tenantId, { role: 'owner' });
    await lockUsers(tx, input.tenantId, { telegramId: input.telegramId });
    const lock = { refresh: true } as const;
    const owners = await tx.find(TelegramUser, { role: 'owner' }, lock);
    let user = await tx.findOne(TelegramUser, { telegramId: input.telegramId }, lock);
    if (!user && input.role === null) {
      throw new NotFoundError('admin_not_found', 'This Telegram id has no role.');
    }
    if (!user) {
      // Someone who has never opened the Mini App: the row is created now and filled in on first visit.
      const now = new Date();
      await tx.upsert(
        TelegramUser,
        {
          id: randomUUID(),
          tenantId: input.tenantId,
          telegramId: input.telegramId,
          createdAt: now,
          updatedAt: now,
        },
        { onConflictFields: ['tenantId', 'telegramId'], onConflictAction: 'ignore' },
      );
      user = await tx.findOneOrFail(TelegramUser, { telegramId: input.telegramId }, lock);
    }
    const from = user.role ?? null;
    const to = input.role;
    if (input.configuredOwners.includes(user.telegramId) && to !== 'owner') {
      throw new AppError(
        409,
        'configured_owner',
        'This owner is listed in TELEGRAM_ADMINS; remove them there to change their role.',
      );
    }
    if (to === null && from === null)
      throw new NotFoundError('admin_not_found', 'This Telegram id has no role.');
    if (from === 'owner' && to !== 'owner') {
      const remaining = new Set([...owners.map((owner) => owner.telegramId), ...input.configuredOwners]);
      remaining.delete(user.telegramId);
      if (remaining.size === 0) {
        throw new AppError(
          409,
          'last_owner',
          'The last owner cannot be removed or demoted; make someone else owner first.',
        );
      }
    }
    if (from === to) return { user, from, to, changed: false };
    // A revoked admin's browser sessions end with the role: granting it again later must not
    // bring an old cookie (maybe on a shared computer) back to life.
    if (to === null) await endPanelSessionsOf(tx, input.tenantId, user.telegramId);
    user.role = to;
    // From now on the database, not TELEGRAM_ADMINS, owns this role.
    user.roleFromConfig = false;
    user.updatedAt = new Date();
    writeAudit(tx, {
      tenantId: input.tenantId,
      actorId: input.actorId,
      action: from === null ? 'admin.grant' : to === null ? 'admin.revoke' : 'admin.change',
      targetType: 'user',
      targetId: user.id,
      details: { telegramId: user.telegramId, from, to },
      at: user.updatedAt,
    });
    await tx.flush();
    return { user, from, to, changed: true };
  });
}
