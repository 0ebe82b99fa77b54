import { z } from 'zod';
import { TENANT_SLUG_PATTERN } from '../../tenants/tenant-urls.ts';
import { PUBLIC } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';

const tags = ['Web pages'];

const tenantPageParams = z.object({
  tenantSlug: z
    .string()
    .regex(TENANT_SLUG_PATTERN)
    .meta({ description: 'The coach (tenant) slug', examples: ['b'] }),
});
const noSuchCoach = {
  description: '`tenant_not_found`: no coach has this slug (the default tenant has no prefixed pages)',
};

/**
 * The Mini App and the trainer panel: built by Vite into dist/web and served by the web process
 * (src/http/web-pages.ts) before the router, like Bull Board. Declared here so the access tests
 * and the OpenAPI document know them. Paths are exact: `/APP/` or `/app/B/` are 404 like any other
 * unknown path (`/app` and `/app/<slug>` redirect to the slash form). The pages hold no data; everything they show comes from the API with the
 * caller's own credentials.
 */
export const webPageRoutes = [
  defineRoute({
    name: 'miniAppPage',
    method: 'GET',
    path: '/app/',
    summary: 'The Mini App (Telegram opens it with launch parameters in the URL hash)',
    tags,
    access: PUBLIC,
    responses: { 200: { description: 'The Mini App page', contentType: 'text/html' } },
    mountedElsewhere: true,
  }),
  defineRoute({
    name: 'panelPage',
    method: 'GET',
    path: '/panel/',
    summary:
      'The trainer panel (opened as a Mini App by admins, or in a browser with the Telegram Login Widget)',
    tags,
    access: PUBLIC,
    responses: { 200: { description: 'The trainer panel page', contentType: 'text/html' } },
    mountedElsewhere: true,
  }),
  defineRoute({
    name: 'tenantMiniAppPage',
    method: 'GET',
    path: '/app/:tenantSlug/',
    summary:
      "A coach's Mini App: the same page as /app/, whose API calls name the coach (X-Tenant: <tenantSlug>)",
    tags,
    access: PUBLIC,
    params: tenantPageParams,
    responses: { 200: { description: 'The Mini App page', contentType: 'text/html' }, 404: noSuchCoach },
    mountedElsewhere: true,
  }),
  defineRoute({
    name: 'tenantPanelPage',
    method: 'GET',
    path: '/panel/:tenantSlug/',
    summary:
      "A coach's trainer panel: the same page as /panel/, logging in with that coach's bot (X-Tenant: <tenantSlug>)",
    tags,
    access: PUBLIC,
    params: tenantPageParams,
    responses: { 200: { description: 'The trainer panel page', contentType: 'text/html' }, 404: noSuchCoach },
    mountedElsewhere: true,
  }),
  defineRoute({
    name: 'webAsset',
    method: 'GET',
    path: '/assets/:file',
    summary:
      'A hashed script, stylesheet or image of the pages (cached for a year: the name changes with it)',
    tags,
    access: PUBLIC,
    params: z.object({ file: z.string().regex(/^[A-Za-z0-9._-]+$/) }),
    responses: {
      200: { description: 'The asset', contentType: 'application/octet-stream' },
      404: { description: 'No such asset' },
    },
    mountedElsewhere: true,
  }),
];
