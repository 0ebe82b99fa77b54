import { TENANT_SLUG_PATTERN } from '../tenants/tenant-urls.ts';

/** The two pages the web process serves (built by Vite from web/app and web/panel). */
export type WebPage = 'app' | 'panel';
export const WEB_PAGES: readonly WebPage[] = ['app', 'panel'];

/** A page path: the page, and the tenant slug for `/app/<slug>/` (none for the default tenant's `/app/`). */
export interface PagePath {
  page: WebPage;
  slug: string | undefined;
}

const PAGE_PATH = /^\/(app|panel)\/(?:([^/]+)\/)?$/;

/**
 * Which page a request path names: exact paths only, like the router (no case or slash variants,
 * no decoding): `/app/`, `/panel/`, `/app/<slug>/`, `/panel/<slug>/` with a well-formed slug.
 */
export function webPageOf(path: string): PagePath | undefined {
  const match = PAGE_PATH.exec(path);
  if (!match) return undefined;
  const slug = match[2];
  if (slug !== undefined && !TENANT_SLUG_PATTERN.test(slug)) return undefined;
  return { page: match[1] as WebPage, slug };
}

/** A page path without its final slash (`/app`, `/app/<slug>`: the redirect's source), or undefined. */
export function unslashedPage(path: string): PagePath | undefined {
  return path.endsWith('/') ? undefined : webPageOf(`${path}/`);
}
