import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../config/logger.ts';
import { NotFoundError } from '../domain/errors.ts';
import type { TenantDirectory } from '../tenants/tenant-directory.ts';
import type { AppMiddleware } from './request-state.ts';
import { type PagePath, unslashedPage, WEB_PAGES, type WebPage, webPageOf } from './web-page-paths.ts';

/** Where `npm run build:web` (Vite) writes the Mini App and the panel. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

interface ServedFile {
  body: Buffer;
  gzipped: Buffer | undefined;
  /** Strong validators name one representation: the gzip body has its own. */
  etag: string;
  gzipEtag: string;
  type: string;
  cacheControl: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

// Hashed names change with their content, so browsers may keep them for a year untouched; the
// pages themselves are revalidated on every load (cheap: 304 by ETag) so a deploy shows at once.
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

function load(path: string, cacheControl: string): ServedFile {
  const body = readFileSync(path);
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const digest = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  const compressible = type.startsWith('text/') || type === 'image/svg+xml' || type === 'application/json';
  return {
    body,
    gzipped: compressible && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
    etag: `"${digest}"`,
    gzipEtag: `"${digest}-gz"`,
    type,
    cacheControl,
  };
}

/** The built pages, read into memory once at boot (a few hundred kilobytes). */
export function loadWebBuild(dir = WEB_DIST_DIR) {
  const pages = new Map<WebPage, ServedFile>();
  const assets = new Map<string, ServedFile>();
  if (!existsSync(dir)) return { pages, assets, built: false };
  for (const page of WEB_PAGES) {
    const index = join(dir, page, 'index.html');
    if (existsSync(index)) pages.set(page, load(index, REVALIDATE));
  }
  const assetDir = join(dir, 'assets');
  if (existsSync(assetDir)) {
    for (const name of readdirSync(assetDir)) assets.set(name, load(join(assetDir, name), IMMUTABLE));
  }
  return { pages, assets, built: pages.size === WEB_PAGES.length };
}

export type WebBuild = ReturnType<typeof loadWebBuild>;

/**
 * A tenant page is served only for a coach that exists, and only under one URL: the default
 * tenant's pages are `/app/` and `/panel/`, never `/app/default/`.
 */
async function servesTenant(tenants: TenantDirectory, page: PagePath): Promise<boolean> {
  if (page.slug === undefined) return true;
  const tenant = await tenants.bySlug(page.slug);
  return tenant !== undefined && !tenant.isDefault;
}

const noSuchCoach = () => new NotFoundError('tenant_not_found', 'No coach has this address.');

/**
 * Serves GET/HEAD of `/app/`, `/panel/`, their per-tenant forms `/app/<slug>/`, `/panel/<slug>/`
 * (the same build: the page reads its slug from its own URL) and `/assets/<name>` (declared in
 * routes/web-page-routes.ts); every other request goes on to the router. `/app`, `/panel` and
 * `/app/<slug>` redirect to the slash form, which keeps the launch parameters in the URL hash.
 */
export function webPagesMiddleware(build: WebBuild, tenants: TenantDirectory, logger: Logger): AppMiddleware {
  if (!build.built) {
    logger.warn(
      { event: 'web_not_built', dir: WEB_DIST_DIR },
      'the Mini App and panel are not built: run `npm run build:web` (npm start does it for you)',
    );
  }
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const path = ctx.path;
    const unslashed = unslashedPage(path);
    if (unslashed) {
      if (!(await servesTenant(tenants, unslashed))) throw noSuchCoach();
      ctx.status = 308;
      ctx.redirect(`${path}/${ctx.querystring ? `?${ctx.querystring}` : ''}`);
      return;
    }
    const page = webPageOf(path);
    let file: ServedFile | undefined;
    if (page) {
      if (!(await servesTenant(tenants, page))) throw noSuchCoach();
      file = build.pages.get(page.page);
      if (!file) {
        ctx.status = 503;
        ctx.set('Retry-After', '30');
        ctx.set('Cache-Control', 'no-store');
        ctx.body = {
          error: { code: 'web_not_built', message: 'The pages are not built on this server yet.' },
        };
        return;
      }
    } else if (path.startsWith('/assets/')) {
      file = build.assets.get(path.slice('/assets/'.length));
      if (!file) return next();
    } else {
      return next();
    }
    const gzip = file.gzipped !== undefined && /\bgzip\b/.test(ctx.get('accept-encoding'));
    const etag = gzip ? file.gzipEtag : file.etag;
    ctx.set('Cache-Control', file.cacheControl);
    ctx.set('ETag', etag);
    ctx.set('Vary', 'Accept-Encoding');
    ctx.type = file.type;
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.status = 200;
    if (gzip) ctx.set('Content-Encoding', 'gzip');
    ctx.body = gzip ? file.gzipped : file.body;
  };
}
