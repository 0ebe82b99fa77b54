import { z } from 'zod';
import { PUBLIC } from '../routing/access.ts';
import { defineRoute } from '../routing/define-route.ts';

const tags = ['Web pages'];

/**
 * The Mini App and the trainer panel: built by Vite into dist/web and served by the web process
 * (src/http/web-pages.ts) before the router, like Bull Board. Declared here so the access tests
 * and the OpenAPI document know them. Paths are exact: `/APP/` or `/app` are 404 like any other
 * unknown path. The pages hold no data; everything they show comes from the API with the
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
