import { z } from 'zod';
import { billingRoutes } from './routes/billing-routes.ts';
import { billingWebhookRoutes } from './routes/billing-webhook-routes.ts';
import { botApiRoutes } from './routes/bot-api-routes.ts';
import { miniAppRoutes } from './routes/mini-app-routes.ts';
import { opsRoutes } from './routes/ops-routes.ts';
import { panelAdminRoutes } from './routes/panel-admin-routes.ts';
import { panelApplicationRoutes } from './routes/panel-application-routes.ts';
import { panelBillingRoutes } from './routes/panel-billing-routes.ts';
import { panelBroadcastRoutes } from './routes/panel-broadcast-routes.ts';
import { panelClientRoutes } from './routes/panel-client-routes.ts';
import { panelLoginRoutes } from './routes/panel-login-routes.ts';
import { panelPreferenceRoutes } from './routes/panel-preference-routes.ts';
import { panelSessionRoutes } from './routes/panel-session-routes.ts';
import { telegramWebhookRoutes } from './routes/telegram-webhook-routes.ts';
import { webPageRoutes } from './routes/web-page-routes.ts';
import { PUBLIC } from './routing/access.ts';
import { defineRoute, type RouteDefinition } from './routing/define-route.ts';
import { buildOpenApiDocument } from './routing/openapi.ts';

const API_VERSION = '1.0.0';
let openApiDocument: unknown;

const openApiRoute = defineRoute({
  name: 'openApiDocument',
  method: 'GET',
  path: '/api/openapi.json',
  summary: 'This document: OpenAPI 3.1, generated from the route table',
  tags: ['Ops'],
  access: PUBLIC,
  responses: { 200: { description: 'The OpenAPI document', schema: z.record(z.string(), z.unknown()) } },
  async handler() {
    openApiDocument ??= buildOpenApiDocument(ROUTES, API_VERSION);
    return { status: 200, body: openApiDocument as Record<string, unknown> };
  },
});

/**
 * Every HTTP route of the web process, each declared once with its method, exact path, who may
 * call it and its schemas. The router, the guards, the OpenAPI document and the access tests are
 * all derived from this list: a route that is not here does not exist.
 */
export const ROUTES: readonly RouteDefinition[] = [
  ...miniAppRoutes,
  ...billingRoutes,
  ...panelApplicationRoutes,
  ...panelClientRoutes,
  ...panelAdminRoutes,
  ...panelBroadcastRoutes,
  ...panelPreferenceRoutes,
  ...panelBillingRoutes,
  ...panelSessionRoutes,
  ...panelLoginRoutes,
  ...botApiRoutes,
  ...telegramWebhookRoutes,
  ...billingWebhookRoutes,
  ...opsRoutes,
  ...webPageRoutes,
  openApiRoute,
];

export function openApi() {
  return buildOpenApiDocument(ROUTES, API_VERSION);
}
