import Router from '@koa/router';
import type { Context } from 'koa';
import type { BillingAdapter } from '../../billing/billing-adapter.ts';
import type { Config } from '../../config/env.ts';
import { listClients, removeClient } from '../../domain/clients.ts';
import type { LiveEventPublisher } from '../../domain/live-events.ts';
import { pageBody, pageQuery } from '../cursor.ts';
import { requirePermission } from '../require-permission.ts';
import { tmaAuth } from '../tma-auth.ts';
import { telegramIdParam } from './panel-admin-routes.ts';

export interface PanelClientRouteDeps {
  config: Config;
  billing: BillingAdapter;
  liveEvents: LiveEventPublisher;
  onOutboxWritten(): void;
}

export function panelClientRoutes(deps: PanelClientRouteDeps): Router {
  const router = new Router({ prefix: '/api/panel/clients' });
  router.use(tmaAuth(deps.config), requirePermission('manage_clients', deps.config.telegram.admins));

  router.get('/', async (ctx: Context) => {
    const page = await listClients(
      ctx.state.em,
      { billing: deps.billing, log: ctx.state.log, tenantId: ctx.state.tenantId },
      pageQuery(ctx),
    );
    ctx.body = pageBody(page.items, page.next);
  });

  router.delete('/:telegramId', async (ctx: Context) => {
    const user = await removeClient(ctx.state.em, {
      tenantId: ctx.state.tenantId,
      actorId: ctx.state.user.id,
      telegramId: telegramIdParam(ctx),
    });
    deps.onOutboxWritten();
    deps.liveEvents.publish(ctx.state.tenantId, {
      type: 'client.removed',
      userId: user.id,
      telegramId: user.telegramId,
    });
    ctx.status = 204;
  });

  return router;
}
