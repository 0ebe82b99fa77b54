import type { z } from 'zod';
import type { Logger } from '../../config/logger.ts';
import type { TelegramUser } from '../../db/entities/index.ts';
import type { AdminRole } from '../../db/entities/telegram-user.entity.ts';
import type { EntityManager } from '../../db/orm.ts';
import type { TenantProfile } from '../../tenants/tenant-directory.ts';
import type { AppContext as Context } from '../request-state.ts';
import type { Access, UserAccess } from './access.ts';
import type { RouteDeps } from './route-deps.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseSpec {
  description: string;
  /** JSON body schema; omitted for bodiless (204) or non-JSON (e.g. Prometheus text) answers. */
  schema?: z.ZodType;
  /** Non-JSON answers name their media type, e.g. `text/plain` for /metrics. */
  contentType?: string;
}

export type Responses = { [status: number]: ResponseSpec };

type Output<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOf<R extends ResponseSpec> = R['schema'] extends z.ZodType
  ? z.input<R['schema']>
  : R['contentType'] extends string
    ? string
    : undefined;

/** What a handler returns: one of the declared statuses, with a body of that status's schema. */
export type ReplyOf<R extends Responses> = {
  [S in keyof R & number]: { status: S; body: BodyOf<R[S]>; headers?: Record<string, string> };
}[keyof R & number];

/** Everything a handler sees of the request: parsed input, the caller, and its own EntityManager. */
export interface RouteRequest<P, Q, B, A extends Access> {
  params: P;
  query: Q;
  body: B;
  em: EntityManager;
  tenantId: string;
  /** The coach this request is for (tenant-resolution.ts): their bot, owners and URLs. */
  tenant: TenantProfile;
  log: Logger;
  ip: string;
  /** The raw Koa context, for the few routes that stream or read raw headers. */
  ctx: Context;
  user: A extends UserAccess ? TelegramUser : undefined;
  /** The caller's panel role (panel routes only). */
  role: A extends { kind: 'panel' } ? AdminRole : undefined;
}

export interface RouteDefinition<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  R extends Responses = Responses,
  A extends Access = Access,
> {
  /** Stable name, also the OpenAPI operationId. */
  name: string;
  method: HttpMethod;
  /** Exact path; `:name` segments are parameters and need a `params` schema. */
  path: string;
  summary: string;
  tags: string[];
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  responses: R;
  /**
   * Routes served by middleware outside the router (Bull Board's UI) are declared for the docs
   * and the access tests, but have no handler here.
   */
  mountedElsewhere?: true;
  handler?: (
    request: RouteRequest<Output<P>, Output<Q>, Output<B>, A>,
    deps: RouteDeps,
  ) => Promise<ReplyOf<NoInfer<R>>>;
}

/** Identity at run time; at compile time it ties the handler's input and reply to the schemas. */
export function defineRoute<
  const P extends z.ZodType | undefined = undefined,
  const Q extends z.ZodType | undefined = undefined,
  const B extends z.ZodType | undefined = undefined,
  const R extends Responses = Responses,
  const A extends Access = Access,
>(definition: RouteDefinition<P, Q, B, R, A>): RouteDefinition {
  return definition as unknown as RouteDefinition;
}
