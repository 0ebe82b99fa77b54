import type { MikroORM } from '@mikro-orm/postgresql';
import { DEFAULT_TENANT_ID, forkForTenant } from '../db/orm.ts';
import { BadRequestError, NotFoundError, ServiceUnavailableError } from '../domain/errors.ts';
import type { TenantDirectory, TenantProfile } from '../tenants/tenant-directory.ts';
import { TENANT_SLUG_PATTERN } from '../tenants/tenant-urls.ts';
import type { AppContext as Context, Next } from './request-state.ts';

/** Ops endpoints (liveness, readiness, Prometheus) that serve the process, not a coach. */
const TENANTLESS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** API calls name their coach with this header; without it they are for the default tenant. */
export const TENANT_HEADER = 'x-tenant';

export type TenantLookup =
  | { ok: true; tenant: TenantProfile }
  | { ok: false; reason: 'invalid_tenant' | 'tenant_not_found' };

/**
 * The tenant a slug names: absent (undefined or '') is the default tenant. The slug is matched
 * exactly (no case folding, no trimming): `B` or ` b` are malformed, not another spelling of `b`.
 * Directory errors (database down) propagate, so callers answer 503 like other dependency errors.
 */
export async function lookUpTenant(
  tenants: TenantDirectory,
  slug: string | undefined,
): Promise<TenantLookup> {
  if (slug === undefined || slug === '') {
    const tenant = await tenants.byId(DEFAULT_TENANT_ID);
    if (!tenant) throw new ServiceUnavailableError('tenant_unavailable', 'The default tenant is missing.');
    return { ok: true, tenant };
  }
  if (!TENANT_SLUG_PATTERN.test(slug)) return { ok: false, reason: 'invalid_tenant' };
  const tenant = await tenants.bySlug(slug);
  return tenant ? { ok: true, tenant } : { ok: false, reason: 'tenant_not_found' };
}

/** Puts a resolved tenant on the request: its profile, its id and an EntityManager scoped to it. */
export function useTenant(ctx: Context, orm: MikroORM, tenant: TenantProfile): void {
  ctx.state.tenant = tenant;
  ctx.state.tenantId = tenant.id;
  ctx.state.em = forkForTenant(orm, tenant.id);
  if (!tenant.isDefault) ctx.state.log = ctx.state.log.child({ tenant: tenant.slug });
}

/**
 * Which coach a request is for, from `X-Tenant: <slug>` (mounted after the error middleware, so a
 * refusal is the usual JSON error). Malformed → 400 `invalid_tenant`, unknown → 404
 * `tenant_not_found`. Everything after this sees only that tenant's rows (the ORM's tenant filter).
 * The pages (`/app/<slug>/`) and the webhook (`/telegram/webhook/<slug>`) carry the slug in their
 * path instead; they are served without the header, as the default tenant here.
 */
export function tenantResolution(orm: MikroORM, tenants: TenantDirectory) {
  return async (ctx: Context, next: Next) => {
    // Health checks and scrapes are nobody's tenant: they must answer while the tenant table
    // cannot be read (PostgreSQL down when a web process starts), or the orchestrator would
    // restart a process that is fine. Exact paths; their handlers never read ctx.state.tenant.
    if (TENANTLESS_PATHS.has(ctx.path) && !ctx.get(TENANT_HEADER)) return next();
    // A repeated header arrives joined with ", ", which no slug matches: malformed, not a guess.
    const lookup = await lookUpTenant(tenants, ctx.get(TENANT_HEADER));
    if (!lookup.ok) {
      if (lookup.reason === 'invalid_tenant') {
        throw new BadRequestError(
          'invalid_tenant',
          'X-Tenant must be a tenant slug: lower-case letters, digits and inner hyphens, at most 40 characters.',
        );
      }
      throw new NotFoundError('tenant_not_found', 'No coach has the tenant slug given in X-Tenant.');
    }
    useTenant(ctx, orm, lookup.tenant);
    await next();
  };
}
