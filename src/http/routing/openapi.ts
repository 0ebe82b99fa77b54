import { z } from 'zod';
import { TENANT_SLUG_PATTERN } from '../../tenants/tenant-urls.ts';
import { errorSchema } from '../schemas.ts';
import type { Access } from './access.ts';
import type { RouteDefinition } from './define-route.ts';

type JsonSchema = Record<string, unknown>;

const SECURITY_SCHEMES = {
  miniApp: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      "Telegram Mini App initData: `Authorization: tma <raw initData>`, HMAC-checked against the bot token of the request's tenant (X-Tenant): initData of another coach's bot is 401.",
  },
  panelSession: {
    type: 'apiKey',
    in: 'cookie',
    name: 'coach_panel_session',
    description:
      'Trainer panel browser session from `POST /api/panel/session` (Telegram Login Widget). Each tenant has its own cookie: `coach_panel_session` for the default tenant, `coach_panel_session_<slug>` with `X-Tenant: <slug>`; a session opens its own tenant only. Requests other than GET/HEAD also need `X-Requested-With: coach-panel` and, when an `Origin` is sent, the same origin.',
  },
  botApi: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Bot-Api-Secret',
    description:
      'A platform secret from TELEGRAM_BOT_API_SECRET (any tenant, named by X-Tenant), or the own bot API secret of the X-Tenant tenant (that tenant only); the source IP must be in BOT_API_ALLOWED_IPS when set.',
  },
  telegramWebhook: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Telegram-Bot-Api-Secret-Token',
    description: 'TELEGRAM_WEBHOOK_SECRET, which setWebhook gave Telegram.',
  },
  billingSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Billing-Signature',
    description:
      'HMAC-SHA256 of the raw request body with BILLING_WEBHOOK_SECRET, hex (`sha256=<hex>` or bare); `sentAt` must be within BILLING_WEBHOOK_TOLERANCE_SECONDS.',
  },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when set.' },
  opsBasic: { type: 'http', scheme: 'basic', description: 'BULL_BOARD_USER / BULL_BOARD_PASSWORD.' },
} as const;

function security(access: Access): Record<string, string[]>[] {
  switch (access.kind) {
    case 'public':
    case 'panelLogin':
    case 'panelSocket':
      return [];
    case 'miniApp':
      return [{ miniApp: [] }];
    case 'panel':
      return [{ miniApp: [access.permission] }, { panelSession: [access.permission] }];
    case 'botApi':
      return [{ botApi: [] }];
    case 'webhook':
      return [{ telegramWebhook: [] }];
    case 'billingWebhook':
      return [{ billingSignature: [] }];
    case 'metrics':
      // Open when METRICS_TOKEN is unset: the empty requirement says "or nothing".
      return [{ metricsToken: [] }, {}];
    case 'opsBasic':
      return [{ opsBasic: [] }];
  }
}

/** The errors a route can answer because of who may call it and what it parses. */
function standardErrors(route: RouteDefinition): Record<number, string> {
  const errors: Record<number, string> = {};
  if (route.params || route.query || route.body) errors[400] = 'Invalid input; `details` lists each problem';
  if (takesTenantHeader(route)) {
    errors[400] = errors[400]
      ? `${errors[400]}, or a malformed X-Tenant (\`invalid_tenant\`)`
      : 'Malformed X-Tenant (`invalid_tenant`)';
    errors[404] = 'No tenant has the X-Tenant slug (`tenant_not_found`)';
  }
  if (route.body) {
    errors[413] = 'Body over 64 KB';
    errors[415] = 'Body not JSON in UTF-8, or an unsupported Content-Encoding';
  }
  const kind = route.access.kind;
  if (kind === 'miniApp' || kind === 'panel') errors[401] = 'Missing, invalid or expired initData';
  if (kind === 'panel') {
    errors[401] = 'Missing, invalid or expired initData or panel session';
    errors[403] = 'Not an admin, the role lacks the permission, or a session request failed the CSRF check';
  }
  if (kind === 'panelLogin') errors[429] = 'Too many login attempts from this address; see Retry-After';
  if (kind === 'botApi') {
    errors[403] = 'Wrong secret or source IP';
    errors[429] = 'Per-IP rate limit; see Retry-After';
  }
  if (kind === 'webhook' || kind === 'billingWebhook' || kind === 'metrics' || kind === 'opsBasic')
    errors[401] = 'Wrong or missing credentials';
  if (kind !== 'public') errors[503] = 'PostgreSQL or Redis unavailable; see Retry-After';
  return errors;
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/** API calls name their coach with X-Tenant; pages, webhooks and ops endpoints do not take it. */
const takesTenantHeader = (route: RouteDefinition) => route.path.startsWith('/api/');

const TENANT_HEADER_PARAMETER = {
  name: 'X-Tenant',
  in: 'header',
  required: false,
  schema: { type: 'string', pattern: TENANT_SLUG_PATTERN.source },
  description:
    'The coach (tenant slug) this call is for; absent means the default tenant. Malformed: 400 `invalid_tenant`; unknown: 404 `tenant_not_found`.',
};

function parameters(route: RouteDefinition) {
  const list: JsonSchema[] = takesTenantHeader(route) ? [TENANT_HEADER_PARAMETER] : [];
  for (const [where, schema] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const object = toSchema(schema, 'input') as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(object.properties ?? {})) {
      const { description, ...rest } = property;
      list.push({
        name,
        in: where,
        required: where === 'path' || (object.required ?? []).includes(name),
        schema: rest,
        ...(description ? { description } : {}),
      });
    }
  }
  return list;
}

function operation(route: RouteDefinition) {
  const responses: Record<string, JsonSchema> = {};
  const errorBody = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const [status, spec] of Object.entries(route.responses)) {
    const content = spec.schema
      ? { content: { 'application/json': { schema: toSchema(spec.schema, 'output') } } }
      : spec.contentType
        ? { content: { [spec.contentType]: { schema: { type: 'string' } } } }
        : Number(status) >= 400
          ? errorBody
          : {};
    responses[status] = { description: spec.description, ...content };
  }
  for (const [status, description] of Object.entries(standardErrors(route))) {
    responses[status] ??= { description, ...errorBody };
  }
  return {
    operationId: route.name,
    summary: route.summary,
    tags: route.tags,
    security: security(route.access),
    parameters: parameters(route),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: toSchema(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** OpenAPI 3.1, generated from the route table: nobody edits it by hand. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = toOpenApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Coach backend for Telegram',
      version,
      description:
        'Mini App, trainer panel, bot and ops endpoints. Errors are `{"error": {"code", "message", "details"?}}`. Paths match exactly: another letter case, a trailing or doubled slash, or an encoded letter is 404. One deployment serves many coaches (tenants): API calls name theirs with `X-Tenant: <slug>` (absent: the default tenant), and their pages live at `/app/<slug>/` and `/panel/<slug>/`.',
    },
    paths,
    components: {
      schemas: { Error: toSchema(errorSchema, 'output') },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
