import { z } from 'zod';
import { APPLICATION_STATUSES } from '../../db/entities/application.entity.ts';
import { decideApplication, listApplications } from '../../domain/applications.ts';
import { pageBody, pageQueryShape, pageSchema } from '../cursor.ts';
import { panel } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';
import { uuid } from '../schemas.ts';

const applicationSchema = z.object({
  id: z.uuid(),
  status: z.enum(APPLICATION_STATUSES),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
  user: z
    .object({
      telegramId: z.string(),
      firstName: z.string(),
      lastName: z.string().nullable(),
      username: z.string().nullable(),
    })
    .nullable(),
  survey: z.object({ goal: z.string(), experience: z.string(), daysPerWeek: z.number() }).nullable(),
  plan: z.object({ id: z.uuid(), status: z.string() }).nullable(),
});

const decisionSchema = z.object({
  id: z.uuid(),
  status: z.enum(APPLICATION_STATUSES),
  decidedAt: z.string().nullable(),
  user: z.object({ telegramId: z.string(), isClient: z.boolean() }),
});

const tags = ['Panel: applications'];

function decisionRoute(decision: 'accept' | 'reject') {
  return defineRoute({
    name: `${decision}Application`,
    method: 'POST',
    path: `/api/panel/applications/:applicationId/${decision}`,
    summary:
      decision === 'accept'
        ? 'Accept: the applicant becomes a client and is notified (audited)'
        : 'Reject the application (audited)',
    tags,
    access: panel('manage_clients'),
    params: z.object({ applicationId: uuid }),
    responses: {
      200: { description: 'Decided', schema: decisionSchema },
      404: { description: 'No such application' },
      409: { description: 'Already decided' },
    },
    async handler({ params, em, tenantId, tenant, user: actor }, deps) {
      const { application, user } = await decideApplication(em, {
        tenantId,
        actorId: actor.id,
        applicationId: params.applicationId,
        decision,
        // The client opens this coach's Mini App (/app/<slug>/), not the default one.
        miniAppUrl: tenant.miniAppUrl,
      });
      if (decision === 'accept') {
        deps.liveEvents.publish(tenantId, {
          type: 'client.added',
          userId: user.id,
          telegramId: user.telegramId,
        });
      }
      return {
        status: 200,
        body: {
          id: application.id,
          status: application.status,
          decidedAt: application.decidedAt?.toISOString() ?? null,
          user: { telegramId: user.telegramId, isClient: user.isClient ?? false },
        },
      };
    },
  });
}

export const panelApplicationRoutes = [
  defineRoute({
    name: 'listApplications',
    method: 'GET',
    path: '/api/panel/applications',
    summary: 'Applications, newest first, optionally one status (keyset paged)',
    tags,
    access: panel('view_applications'),
    query: z.object({ ...pageQueryShape, status: z.enum(APPLICATION_STATUSES).optional() }),
    responses: { 200: { description: 'One page', schema: pageSchema(applicationSchema) } },
    async handler({ query, em }) {
      const page = await listApplications(em, {
        limit: query.limit,
        after: query.cursor,
        status: query.status,
      });
      return { status: 200, body: pageBody(page.items, page.next) };
    },
  }),
  decisionRoute('accept'),
  decisionRoute('reject'),
];
