import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../config/logger.ts';
import { DEFAULT_TENANT_ID, forkForTenant } from '../db/orm.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { TenantDirectory } from '../tenants/tenant-directory.ts';
import type { AppContext as Context, Next } from './request-state.ts';

/**
 * Gives each request an id, a child logger and its own EntityManager fork. Access logs carry
 * method, route and status only: never headers or bodies, which may hold initData.
 */
export function requestContext(orm: MikroORM, tenants: TenantDirectory, logger: Logger, metrics: Metrics) {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
    ctx.state.tenantId = DEFAULT_TENANT_ID;
    // TODO(tenant resolution): X-Tenant / page slug; the default tenant until then.
    ctx.state.tenant = (await tenants.byId(DEFAULT_TENANT_ID))!;
    ctx.state.em = forkForTenant(orm, DEFAULT_TENANT_ID);
    ctx.state.metrics = metrics;
    const started = performance.now();
    try {
      await next();
    } finally {
      const elapsed = performance.now() - started;
      const ms = Math.round(elapsed);
      // The route template (e.g. /api/plans/:planId), never the raw path: labels must stay few.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpDuration.observe({ method: ctx.method, route, status: String(ctx.status) }, elapsed / 1000);
      ctx.state.log.info(
        { event: 'http_request', method: ctx.method, route, status: ctx.status, ms },
        'request',
      );
    }
  };
}
