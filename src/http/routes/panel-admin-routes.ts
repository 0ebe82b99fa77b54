import { z } from 'zod';
import { ADMIN_ROLES } from '../../db/entities/telegram-user.entity.ts';
import { findAdmin, listAdmins, setAdminRole } from '../../domain/admins.ts';
import { NotFoundError } from '../../domain/errors.ts';
import { panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { telegramIdString } from '../schemas.ts';

const adminSchema = z.object({
  telegramId: z.string(),
  firstName: z.string(),
  lastName: z.string().nullable(),
  username: z.string().nullable(),
  role: z.enum(ADMIN_ROLES),
  configured: z
    .boolean()
    .meta({ description: 'Set in TELEGRAM_ADMINS: an owner whatever the database says' }),
});

const tags = ['Panel: admins'];
const access = panel('manage_admins');
const params = z.object({ telegramId: telegramIdString });

export const panelAdminRoutes = [
  defineRoute({
    name: 'listAdmins',
    method: 'GET',
    path: '/api/panel/admins',
    summary: 'Everyone with a panel role',
    tags,
    access,
    responses: { 200: { description: 'The admins', schema: z.object({ items: z.array(adminSchema) }) } },
    async handler({ em, tenant }) {
      return { status: 200, body: { items: await listAdmins(em, tenant.configuredOwners) } };
    },
  }),

  defineRoute({
    name: 'getAdmin',
    method: 'GET',
    path: '/api/panel/admins/:telegramId',
    summary: 'One admin',
    tags,
    access,
    params,
    responses: {
      200: { description: 'The admin', schema: adminSchema },
      404: { description: 'This Telegram id has no panel role' },
    },
    async handler({ params, em, tenant }) {
      const admin = await findAdmin(em, params.telegramId, tenant.configuredOwners);
      if (!admin) throw new NotFoundError('admin_not_found', 'This Telegram id has no panel role.');
      return { status: 200, body: admin };
    },
  }),

  defineRoute({
    name: 'setAdminRole',
    method: 'PUT',
    path: '/api/panel/admins/:telegramId',
    summary: 'Grant or change a role, also for an id that has not opened the Mini App yet (audited)',
    tags,
    access,
    params,
    body: z
      .object({ role: z.enum(ADMIN_ROLES) })
      .strict()
      .meta({ examples: [{ role: 'support' }] }),
    responses: {
      200: {
        description: 'The role now',
        schema: z.object({
          telegramId: z.string(),
          role: z.enum(ADMIN_ROLES),
          previousRole: z.enum(ADMIN_ROLES).nullable(),
          changed: z.boolean(),
        }),
      },
      409: { description: 'Would leave the panel without an owner, or the id is in TELEGRAM_ADMINS' },
    },
    async handler({ params, body, em, tenantId, tenant, user }, deps) {
      const change = await setAdminRole(em, {
        tenantId,
        actorId: user.id,
        telegramId: params.telegramId,
        role: body.role,
        configuredOwners: tenant.configuredOwners,
      });
      if (change.changed)
        deps.liveEvents.publish(tenantId, { type: 'access.changed', userId: change.user.id });
      return {
        status: 200,
        body: {
          telegramId: params.telegramId,
          role: change.to ?? body.role,
          previousRole: change.from,
          changed: change.changed,
        },
      };
    },
  }),

  defineRoute({
    name: 'revokeAdmin',
    method: 'DELETE',
    path: '/api/panel/admins/:telegramId',
    summary: 'Revoke a panel role (audited)',
    tags,
    access,
    params,
    responses: {
      204: { description: 'Revoked' },
      404: { description: 'This Telegram id has no role' },
      409: { description: 'Would leave the panel without an owner, or the id is in TELEGRAM_ADMINS' },
    },
    async handler({ params, em, tenantId, tenant, user }, deps) {
      const change = await setAdminRole(em, {
        tenantId,
        actorId: user.id,
        telegramId: params.telegramId,
        role: null,
        configuredOwners: tenant.configuredOwners,
      });
      if (change.changed)
        deps.liveEvents.publish(tenantId, { type: 'access.changed', userId: change.user.id });
      return { status: 204, body: undefined };
    },
  }),
];
