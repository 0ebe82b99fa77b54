import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Config } from '../../config/env.ts';
import { APPLICATION_STATUSES } from '../../db/entities/application.entity.ts';
import { decideApplication, listApplications } from '../../domain/applications.ts';
import { BadRequestError } from '../../domain/errors.ts';
import type { LiveEventPublisher } from '../../domain/live-events.ts';
import { pageBody, pageQuery, singleQueryValue } from '../cursor.ts';
import { requirePermission } from '../require-permission.ts';
import { tmaAuth } from '../tma-auth.ts';

const statusSchema = z.enum(APPLICATION_STATUSES);

export interface PanelApplicationRouteDeps {
  config: Config;
  onOutboxWritten(): void;
  liveEvents: LiveEventPublisher;
}

export function panelApplicationRoutes(deps: PanelApplicationRouteDeps): Router {
  const router = new Router({ prefix: '/api/panel/applications' });
  const owners = deps.config.telegram.admins;
  router.use(tmaAuth(deps.config));

  router.get('/', requirePermission('view_applications', owners), async (ctx: Context) => {
    const { limit, after } = pageQuery(ctx);
    const rawStatus = singleQueryValue(ctx, 'status');
    const status = rawStatus === undefined ? undefined : statusSchema.safeParse(rawStatus);
    if (status && !status.success) {
      throw new BadRequestError(
        'invalid_status',
        `status must be one of ${APPLICATION_STATUSES.join(', ')}.`,
      );
    }
    const page = await listApplications(ctx.state.em, { limit, after, status: status?.data });
    ctx.body = pageBody(page.items, page.next);
  });

  const decide = (decision: 'accept' | 'reject') => async (ctx: Context) => {
    const id = ctx.params.id!;
    if (!z.uuid().safeParse(id).success) {
      throw new BadRequestError('invalid_application_id', 'Application id must be a UUID.');
    }
    const { application, user } = await decideApplication(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      actorId: ctx.state.user.id,
      applicationId: id,
      decision,
      miniAppUrl: deps.config.telegram.miniAppUrl,
    });
    deps.onOutboxWritten();
    if (decision === 'accept') {
      deps.liveEvents.publish(ctx.state.tenantId, {
        type: 'client.added',
        userId: user.id,
        telegramId: user.telegramId,
      });
    }
    ctx.body = {
      id: application.id,
      status: application.status,
      decidedAt: application.decidedAt?.toISOString() ?? null,
      user: { telegramId: user.telegramId, isClient: user.isClient },
    };
  };
  router.post('/:id/accept', requirePermission('manage_clients', owners), decide('accept'));
  router.post('/:id/reject', requirePermission('manage_clients', owners), decide('reject'));

  return router;
}
