import { ForbiddenError } from '../domain/errors.ts';
import { effectiveRole, hasPermission, type Permission } from '../domain/permissions.ts';
import type { AppContext as Context, Next } from './request-state.ts';

/**
 * After the panel guard (initData or session cookie): 403 unless the caller's role grants
 * `permission`. Owners named in configuration count for their own tenant only (TELEGRAM_ADMINS:
 * the default tenant). Sets ctx.state.role.
 */
export function requirePermission(permission: Permission) {
  return async (ctx: Context, next: Next) => {
    const user = ctx.state.user;
    // Declared access always puts the panel guard first; without it this is a wiring bug.
    if (!user) throw new Error('requirePermission needs the panel guard before it');
    const role = effectiveRole(user, ctx.state.tenant.configuredOwners);
    if (!role) throw new ForbiddenError('not_an_admin', 'This is only for the coach and their team.');
    if (!hasPermission(role, permission)) {
      throw new ForbiddenError('permission_denied', `Your role (${role}) cannot do this.`);
    }
    ctx.state.role = role;
    await next();
  };
}
