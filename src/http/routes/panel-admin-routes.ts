import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../../config/env.ts';
import { ADMIN_ROLES } from '../../db/entities/telegram-user.entity.ts';
import { findAdmin, listAdmins, setAdminRole } from '../../domain/admins.ts';
import { BadRequestError, NotFoundError } from '../../domain/errors.ts';
import type { LiveEventPublisher } from '../../domain/live-events.ts';
import { requirePermission } from '../require-permission.ts';
import { tmaAuth } from '../tma-auth.ts';
import { parseBody } from '../validation.ts';

const roleBodySchema = z.object({ role: z.enum(ADMIN_ROLES) }).strict();
const MAX_BIGINT = 2n ** 63n - 1n;

/** `:telegramId` as a decimal string that fits PostgreSQL's bigint, or 400. */
export function telegramIdParam(ctx: Context): string {
  const value = ctx.params.telegramId ?? '';
  if (!/^[1-9]\d{0,18}$/.test(value) || BigInt(value) > MAX_BIGINT) {
    throw new BadRequestError('invalid_telegram_id', 'Telegram id must be a positive integer.');
  }
  return value;
}

export function panelAdminRoutes(deps: { config: Config; liveEvents: LiveEventPublisher }): Router {
  const router = new Router({ prefix: '/api/panel/admins' });
  const configuredOwners = deps.config.telegram.admins;
  router.use(tmaAuth(deps.config), requirePermission('manage_admins', configuredOwners));

  router.get('/', async (ctx: Context) => {
    ctx.body = { items: await listAdmins(ctx.state.em, configuredOwners) };
  });

  router.get('/:telegramId', async (ctx: Context) => {
    const admin = await findAdmin(ctx.state.em, telegramIdParam(ctx), configuredOwners);
    if (!admin) throw new NotFoundError('admin_not_found', 'This Telegram id has no panel role.');
    ctx.body = admin;
  });

  router.put('/:telegramId', async (ctx: Context) => {
    const telegramId = telegramIdParam(ctx);
    const { role } = parseBody(ctx, roleBodySchema);
    const change = await setAdminRole(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      actorId: ctx.state.user.id,
      telegramId,
      role,
      configuredOwners,
    });
    if (change.changed)
      deps.liveEvents.publish(ctx.state.tenantId, { type: 'access.changed', userId: change.user.id });
    ctx.body = { telegramId, role: change.to, previousRole: change.from, changed: change.changed };
  });

  router.delete('/:telegramId', async (ctx: Context) => {
    const change = await setAdminRole(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      actorId: ctx.state.user.id,
      telegramId: telegramIdParam(ctx),
      role: null,
      configuredOwners,
    });
    if (change.changed)
      deps.liveEvents.publish(ctx.state.tenantId, { type: 'access.changed', userId: change.user.id });
    ctx.status = 204;
  });

  return router;
}
