import type { AdminRole, TelegramUser } from '../db/entities/telegram-user.entity.ts';

export type Permission = 'view_applications' | 'manage_clients' | 'view_revenue' | 'manage_admins';

/** The one place that says which role may do what (DESIGN.md, "Roles"). */
export const ROLE_PERMISSIONS: Record<AdminRole, readonly Permission[]> = {
  owner: ['view_applications', 'manage_clients', 'view_revenue', 'manage_admins'],
  trainer: ['view_applications', 'manage_clients'],
  support: ['view_applications'],
};

/** Telegram ids in TELEGRAM_ADMINS are owners whatever the database says. */
export function effectiveRole(
  user: Pick<TelegramUser, 'role' | 'telegramId'>,
  configuredOwners: string[],
): AdminRole | null {
  if (configuredOwners.includes(user.telegramId)) return 'owner';
  return user.role ?? null;
}

export function hasPermission(role: AdminRole | null, permission: Permission): boolean {
  return role !== null && ROLE_PERMISSIONS[role].includes(permission);
}
