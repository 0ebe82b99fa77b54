/**
 * Where a tenant's pages and webhook live. The default tenant keeps the configured URLs as they
 * are (un-prefixed); every other tenant gets its slug as one more path segment:
 * `https://host/app/` → `https://host/app/<slug>/`, `https://host/telegram/webhook` →
 * `https://host/telegram/webhook/<slug>`.
 */
export function tenantPageUrl(
  base: string | undefined,
  slug: string,
  isDefault: boolean,
): string | undefined {
  return isDefault ? base : withSlugSegment(base, `${slug}/`);
}

export function tenantWebhookUrl(
  base: string | undefined,
  slug: string,
  isDefault: boolean,
): string | undefined {
  return isDefault ? base : withSlugSegment(base, slug);
}

/** The base URL's path plus one segment; a page's query and fragment are the default tenant's, not kept. */
function withSlugSegment(base: string | undefined, segment: string): string | undefined {
  if (!base) return undefined;
  const url = new URL(base);
  url.search = '';
  url.hash = '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${segment}`;
  return url.toString();
}

/** Lower-case letters, digits and inner hyphens, 1–40 characters: safe in a URL path and a header. */
export const TENANT_SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/** Slugs that would collide with paths of our own or read as something they are not. */
export const RESERVED_SLUGS = new Set([
  'default',
  'api',
  'app',
  'panel',
  'assets',
  'telegram',
  'admin',
  'metrics',
]);
