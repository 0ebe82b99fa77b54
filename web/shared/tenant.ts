/**
 * Which coach (tenant) this page is for, read from its own URL: `/app/<slug>/` and
 * `/panel/<slug>/` belong to that coach, `/app/` and `/panel/` to the default one (undefined).
 * The server serves the same build under every prefix, so the URL is the only place it is said.
 * The slug pattern is the server's TENANT_SLUG_PATTERN (src/tenants/tenant-urls.ts); the server
 * serves no page for any other, so a mismatch can only mean "no tenant".
 */
export function tenantSlugOf(pathname: string): string | undefined {
  return /^\/(?:app|panel)\/([a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?)\//.exec(pathname)?.[1];
}

/** The tenant of the page that is open now. */
export const pageTenant = (): string | undefined => tenantSlugOf(window.location.pathname);
