import { z } from 'zod';
import { listAuditLog } from '../../domain/audit-log.ts';
import { listClients, removeClient } from '../../domain/clients.ts';
import { pageBody, pageQuerySchema, pageSchema } from '../cursor.ts';
import { panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { subscriptionSchema, telegramIdString } from '../schemas.ts';

const clientSchema = z.object({
  telegramId: z.string(),
  firstName: z.string(),
  lastName: z.string().nullable(),
  username: z.string().nullable(),
  languageCode: z.string().nullable(),
  reachable: z.boolean(),
  createdAt: z.string(),
  subscription: subscriptionSchema,
});

const auditEntrySchema = z.object({
  id: z.uuid(),
  action: z.string(),
  actor: z.object({ telegramId: z.string(), firstName: z.string() }).nullable(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
});

export const panelClientRoutes = [
  defineRoute({
    name: 'listClients',
    method: 'GET',
    path: '/api/panel/clients',
    summary: 'Clients with their subscription, newest first (subscriptions from one query per page)',
    tags: ['Panel: clients'],
    access: panel('manage_clients'),
    query: pageQuerySchema,
    responses: { 200: { description: 'One page', schema: pageSchema(clientSchema) } },
    async handler({ query, em }) {
      const page = await listClients(em, { limit: query.limit, after: query.cursor });
      return { status: 200, body: pageBody(page.items, page.next) };
    },
  }),

  defineRoute({
    name: 'removeClient',
    method: 'DELETE',
    path: '/api/panel/clients/:telegramId',
    summary: 'Remove a client (audited)',
    tags: ['Panel: clients'],
    access: panel('manage_clients'),
    params: z.object({ telegramId: telegramIdString }),
    responses: { 204: { description: 'Removed' }, 404: { description: 'Not a client' } },
    async handler({ params, em, tenantId, user: actor }, deps) {
      const user = await removeClient(em, { tenantId, actorId: actor.id, telegramId: params.telegramId });
      deps.liveEvents.publish(tenantId, {
        type: 'client.removed',
        userId: user.id,
        telegramId: user.telegramId,
      });
      return { status: 204, body: undefined };
    },
  }),

  defineRoute({
    name: 'listAuditLog',
    method: 'GET',
    path: '/api/panel/audit-log',
    summary: 'Who did what to whom, newest first',
    tags: ['Panel: admins'],
    access: panel('manage_admins'),
    query: pageQuerySchema,
    responses: { 200: { description: 'One page', schema: pageSchema(auditEntrySchema) } },
    async handler({ query, em }) {
      const page = await listAuditLog(em, { limit: query.limit, after: query.cursor });
      return { status: 200, body: pageBody(page.items, page.next) };
    },
  }),
];
