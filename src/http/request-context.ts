import { randomUUID } from 'node:crypto';
import type { Logger } from '../config/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AppContext as Context, Next } from './request-state.ts';

/**
 * Gives each request an id and a child logger; the tenant and the request's own EntityManager fork
 * come next, from tenant-resolution.ts. Access logs carry method, route and status only: never
 * headers or bodies, which may hold initData.
 */
export function requestContext(logger: Logger, metrics: Metrics) {
  return async (ctx: Context, next: Next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.set('X-Request-Id', requestId);
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ requestId });
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
