import type { Context, Next } from 'koa';
import { ForbiddenError } from '../domain/errors.ts';
import { effectiveRole, hasPermission, type Permission } from '../domain/permissions.ts';

/** After tmaAuth: 403 unless the caller's role grants `permission`. Sets ctx.state.role. */
export function requirePermission(permission: Permission, configuredOwners: string[]) {
  return async (ctx: Context, next: Next) => {
    const role = effectiveRole(ctx.state.user, configuredOwners);
    if (!role) throw new ForbiddenError('not_an_admin', 'This is only for the coach and their team.');
    if (!hasPermission(role, permission)) {
      throw new ForbiddenError('permission_denied', `Your role (${role}) cannot do this.`);
    }
    ctx.state.role = role;
    await next();
  };
}
