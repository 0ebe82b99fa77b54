import Router from '@koa/router';
import type { z } from 'zod';
import { BadRequestError } from '../../domain/errors.ts';
import type { AppContext as Context, AppMiddleware as Middleware } from '../request-state.ts';
import { parseBody } from '../validation.ts';
import type { RouteDefinition } from './define-route.ts';
import { createGuards } from './guards.ts';
import type { RouteDeps } from './route-deps.ts';

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/**
 * Path and query values are each named by the API (`invalid_plan_id`, `invalid_limit`, ...) so a
 * client can tell which one to fix; the first failing field decides the code.
 */
function parseNamed<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = String(issue.path[0] ?? 'parameter');
  throw new BadRequestError(
    `invalid_${snakeCase(field)}`,
    `"${field}" is invalid: ${issue.message}`,
    result.error.issues.map((each) => ({ path: each.path.join('.'), message: each.message })),
  );
}

/** `?status=` means "no filter", as if the parameter were absent. */
function presentValues(query: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''));
}

function handle(route: RouteDefinition, deps: RouteDeps): Middleware {
  const handler = route.handler!;
  return async (ctx: Context) => {
    const params = route.params ? parseNamed(route.params, { ...ctx.params }) : undefined;
    const query = route.query ? parseNamed(route.query, presentValues(ctx.query)) : undefined;
    const body = route.body ? parseBody(ctx, route.body) : undefined;
    const reply = await handler(
      {
        params,
        query,
        body,
        em: ctx.state.em,
        tenantId: ctx.state.tenantId,
        tenant: ctx.state.tenant,
        log: ctx.state.log,
        ip: ctx.ip,
        ctx,
        user: ctx.state.user,
        role: ctx.state.role,
      } as never,
      deps,
    );
    const spec = route.responses[reply.status];
    ctx.status = reply.status;
    if (reply.body !== undefined) ctx.body = reply.body;
    if (spec?.contentType) ctx.type = spec.contentType;
    for (const [name, value] of Object.entries(reply.headers ?? {})) ctx.set(name, value);
  };
}

/**
 * One router for every declared route. Matching is exact: case-sensitive, no optional trailing
 * slash, no decoding of literal segments, so `/API/ME`, `/api/me/` or `/api/%6De` match nothing
 * and are 404 for everyone. Guards come from each route's declared access, never from a prefix.
 */
export function createRouter(routes: readonly RouteDefinition[], deps: RouteDeps): Router {
  const router = new Router({ sensitive: true, strict: true });
  const guardsFor = createGuards(deps);
  for (const route of routes) {
    if (route.mountedElsewhere) continue;
    if (!route.handler) throw new Error(`Route ${route.name} has no handler`);
    router.register(route.path, [route.method], [...guardsFor(route.access), handle(route, deps)], {
      name: route.name,
    });
  }
  return router;
}
