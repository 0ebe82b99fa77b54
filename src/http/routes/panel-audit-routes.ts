import Router from '@koa/router';
import type { Context } from 'koa';
import type { Config } from '../../config/env.ts';
import { listAuditLog } from '../../domain/audit-log.ts';
import { pageBody, pageQuery } from '../cursor.ts';
import { requirePermission } from '../require-permission.ts';
import { tmaAuth } from '../tma-auth.ts';

export function panelAuditRoutes(deps: { config: Config }): Router {
  const router = new Router({ prefix: '/api/panel/audit-log' });
  router.use(tmaAuth(deps.config), requirePermission('manage_admins', deps.config.telegram.admins));

  router.get('/', async (ctx: Context) => {
    const page = await listAuditLog(ctx.state.em, pageQuery(ctx));
    ctx.body = pageBody(page.items, page.next);
  });

  return router;
}
