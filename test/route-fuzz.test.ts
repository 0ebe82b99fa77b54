import { createHmac, randomUUID } from 'node:crypto';
import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import pg from 'pg';
import { z } from 'zod';
import { SubscriptionPlan } from '../src/db/entities/index.ts';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { ROUTES } from '../src/http/route-table.ts';
import { EXAMPLE_OFFERED_PLAN_ID } from '../src/http/routes/billing-routes.ts';
import { EXAMPLE_PANEL_PLAN_ID } from '../src/http/routes/panel-billing-routes.ts';
import { EXAMPLE_LOGIN_TELEGRAM_ID } from '../src/http/routes/panel-session-routes.ts';
import type { RouteDefinition } from '../src/http/routing/define-route.ts';
import type { LoginWidgetFields } from '../src/security/login-widget.ts';
import { TENANT_SLUG_PATTERN } from '../src/tenants/tenant-urls.ts';
import { hostileBodies, hostileQueries, type JsonSchema } from './helpers/fuzz-arbitraries.ts';
import { authHeader, TEST_BOT_TOKEN, validAnswers } from './helpers/init-data.ts';
import { signLoginWidget } from './helpers/login-widget.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * Property-based fuzzing of every body and query schema in the route table, against the running
 * app on real PostgreSQL: whatever a caller allowed on the route sends, the answer is never a 5xx,
 * every 4xx is the JSON error contract, and a 4xx wrote nothing (row counts of every table).
 */

const OWNER = 7_300_001;
/** A Telegram id that is no caller, for `:telegramId` params without an example. */
const OTHER_TELEGRAM_ID = '7300999';
const BOT_SECRET = 'fuzz-bot-secret';
const WEBHOOK_SECRET = 'fuzz_webhook-secret';
const BILLING_SECRET = 'fuzz-billing-webhook-secret';
const SEED = 20261201;
/** Random cases per route, on top of the fixed sweep of edge values (`edges`). */
const RANDOM_RUNS = 50;

/**
 * The coaches whose slugs the route table's examples name (`/telegram/webhook/:tenant`): created
 * here, so those examples reach their handlers, each with its own webhook secret.
 */
const EXAMPLE_TENANTS = [
  ...new Set(
    ROUTES.flatMap((route) => {
      const param = (route.params as z.ZodObject | undefined)?.shape.tenant as z.ZodType | undefined;
      const slug = (param?.meta() as { examples?: unknown[] } | undefined)?.examples?.[0];
      return typeof slug === 'string' ? [slug] : [];
    }),
  ),
];
const tenantWebhookSecrets = new Map<string, string>();

let system: TestSystem;
let client: pg.Client;
let countSql: string;

test.before(async () => {
  system = await startTestSystem({
    worker: false,
    tenants: EXAMPLE_TENANTS.map((slug) => ({ slug })),
    env: {
      // The Login Widget example's user is an owner too, so signed login cases reach the session.
      TELEGRAM_ADMINS: `${OWNER},${EXAMPLE_LOGIN_TELEGRAM_ID}`,
      PANEL_LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
      TELEGRAM_BOT_API_SECRET: BOT_SECRET,
      TELEGRAM_WEBHOOK_URL: 'https://coach.example/telegram/webhook',
      TELEGRAM_WEBHOOK_SECRET: WEBHOOK_SECRET,
      BOT_API_RATE_LIMIT_PER_MINUTE: '1000000',
      PLANS_PER_USER_PER_DAY: '1000',
      BILLING_WEBHOOK_SECRET: BILLING_SECRET,
      // The webhook example's sentAt is fixed when this file loads; a slow run must not outlive it.
      BILLING_WEBHOOK_TOLERANCE_SECONDS: '86400',
    },
  });
  await seedExamplePlans();
  for (const slug of EXAMPLE_TENANTS) {
    const secret = (await system.tenantDirectory.bySlug(slug))?.webhookSecret;
    if (!secret) throw new Error(`tenant ${slug} has no webhook secret`);
    tenantWebhookSecrets.set(slug, secret);
  }
  client = new pg.Client({ connectionString: system.db.url });
  await client.connect();
  const { rows } = await client.query<{ name: string }>(
    `select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
  );
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
  countSql = `select ${rows.map(({ name }) => `(select count(*)::int from public.${ident(name)}) as ${ident(name)}`).join(', ')}`;
  // The owner's first tma request inserts their user row; do it before anything is counted.
  const warmUp = await system.request('/api/me', { auth: authHeader({ id: OWNER }) });
  if (warmUp.status !== 200) throw new Error(`warm-up answered ${warmUp.status}`);
});

test.after.always(async () => {
  await client?.end();
  await system?.stop();
});

/** The plans the billing examples name, so their example bodies reach the handlers. */
async function seedExamplePlans(): Promise<void> {
  const em = system.em();
  const now = new Date();
  for (const id of [EXAMPLE_OFFERED_PLAN_ID, EXAMPLE_PANEL_PLAN_ID]) {
    em.create(SubscriptionPlan, {
      id,
      tenantId: DEFAULT_TENANT_ID,
      title: 'Fuzz plan',
      description: 'Seeded for the example bodies',
      priceStars: 100,
      periodDays: 30,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    });
  }
  await em.flush();
}

/** Row count of every table in the test database, in one query. */
async function rowCounts(): Promise<Record<string, number>> {
  return (await client.query(countSql)).rows[0];
}

/** Credentials of a caller the route's declared access lets through (the billing service signs the body). */
function callerHeaders(route: RouteDefinition, rawBody?: string): Record<string, string> {
  switch (route.access.kind) {
    case 'miniApp':
    case 'panel':
      return { authorization: authHeader({ id: OWNER }) };
    case 'botApi':
      return { 'x-bot-api-secret': BOT_SECRET };
    case 'webhook': {
      // A tenant's webhook (`:tenant`, filled with its example) checks that tenant's own secret.
      const slug = EXAMPLE_TENANTS.find((each) => concretePath(route).endsWith(`/${each}`));
      return { 'x-telegram-bot-api-secret-token': slug ? tenantWebhookSecrets.get(slug)! : WEBHOOK_SECRET };
    }
    case 'billingWebhook':
      return {
        'x-billing-signature': createHmac('sha256', BILLING_SECRET)
          .update(rawBody ?? '')
          .digest('hex'),
      };
    case 'public':
    case 'metrics':
    // Its credential is the body, signed per case (signedLogin).
    case 'panelLogin':
      return {};
    default:
      throw new Error(`${route.name}: no fuzz caller for access ${route.access.kind}`);
  }
}

const jsonSchema = (schema: z.ZodType) =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** The path with each `:param` filled by its declared example, else a valid value of its format. */
function concretePath(route: RouteDefinition): string {
  const properties = route.params ? (jsonSchema(route.params).properties ?? {}) : {};
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    const property = properties[name];
    const example = property?.examples?.[0];
    if (example !== undefined) return encodeURIComponent(String(example));
    return property?.format === 'uuid' ? randomUUID() : OTHER_TELEGRAM_ID;
  });
}

/** Every enum value a query schema declares, so some generated values pass validation. */
function queryEnums(schema: z.ZodType): string[] {
  const properties = jsonSchema(schema).properties ?? {};
  return Object.values(properties).flatMap((property) => (property.enum ?? []).map(String));
}

const isErrorShape = (body: unknown) =>
  z.object({ error: z.object({ code: z.string().min(1), message: z.string().min(1) }) }).safeParse(body)
    .success;

const clip = (text: string, max = 1500) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;

const fuzzed = ROUTES.filter((route) => !route.mountedElsewhere && (route.body || route.query));

/** Per route: answers by status and how many cases ran, for the summary at the end. */
const seen = new Map<string, { statuses: Map<number, number>; cases: number; planned: number }>();

test('every fuzzed route has a caller here, and every body an example to mutate', (t) => {
  t.true(fuzzed.length > 0);
  for (const route of fuzzed) {
    t.notThrows(() => callerHeaders(route), route.name);
    if (route.body) t.not(route.body.meta()?.examples, undefined, `${route.name}: body without an example`);
  }
});

/** The first example body; a billing webhook's `sentAt` is now, inside its replay window. */
function exampleBody(route: RouteDefinition): unknown {
  const example = (route.body?.meta()?.examples as unknown[] | undefined)?.[0];
  if (route.access.kind !== 'billingWebhook' || typeof example !== 'object') return example;
  return { ...example, sentAt: Math.floor(Date.now() / 1000) };
}

/**
 * A Login Widget body is its own credential, so a mutated one would only ever meet "bad signature".
 * Each case whose hash is still the example's is signed as the widget would sign those fields (with
 * a fresh auth_date when it is still the example's), so hostile values get past the signature.
 */
function signedLogin(route: RouteDefinition, rawBody: string | undefined): string | undefined {
  if (route.access.kind !== 'panelLogin' || rawBody === undefined) return rawBody;
  const example = exampleBody(route) as { hash: string; auth_date: number };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody);
  } catch {
    return rawBody;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return rawBody;
  const fields = { ...parsed } as Record<string, unknown>;
  if (fields.hash !== example.hash) return rawBody;
  if (fields.auth_date === example.auth_date) fields.auth_date = Math.floor(Date.now() / 1000);
  return JSON.stringify(signLoginWidget(TEST_BOT_TOKEN, fields as LoginWidgetFields));
}

for (const route of fuzzed) {
  const bodies = route.body ? hostileBodies(exampleBody(route), jsonSchema(route.body)) : undefined;
  const queries = route.query
    ? hostileQueries(Object.keys(jsonSchema(route.query).properties ?? {}), queryEnums(route.query))
    : undefined;
  const examples: [string | undefined, string][] = [
    ...(bodies?.edges ?? []).map((body) => [body, ''] as [string, string]),
    ...(queries?.edges ?? []).map((query) => [undefined, query] as [undefined, string]),
  ];
  const numRuns = examples.length + RANDOM_RUNS;
  seen.set(route.name, { statuses: new Map(), cases: 0, planned: numRuns });
  const title = `${route.name}: ${route.method} ${route.path} ${route.body ? 'body' : ''}${route.query ? 'query' : ''}`;

  testProp.serial(
    title,
    [bodies?.arbitrary ?? fc.constant(undefined), queries?.arbitrary ?? fc.constant('')],
    async (t, generatedBody, rawQuery) => {
      const rawBody = signedLogin(route, generatedBody);
      const url = `${concretePath(route)}${rawQuery ? `?${rawQuery}` : ''}`;
      const headers: Record<string, string> = { ...callerHeaders(route, rawBody) };
      if (rawBody !== undefined) headers['content-type'] = 'application/json';
      const before = await rowCounts();
      const response = await system.request(url, { method: route.method, headers, body: rawBody });
      const text = await response.text();
      const after = await rowCounts();

      const tally = seen.get(route.name)!;
      tally.cases++;
      tally.statuses.set(response.status, (tally.statuses.get(response.status) ?? 0) + 1);

      const what = `${route.name}: ${route.method} ${clip(url, 500)}\nrequest body: ${clip(rawBody ?? '(none)')}\n→ ${response.status} ${clip(text)}`;
      t.true(response.status < 500, `server error\n${what}`);
      if (response.status >= 200 && response.status < 300) {
        t.true(String(response.status) in route.responses, `undeclared success status\n${what}`);
      }
      if (response.status >= 400) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        t.true(isErrorShape(parsed), `4xx without the JSON error shape\n${what}`);
        t.deepEqual(after, before, `a ${response.status} answer wrote rows\n${what}`);
      }
    },
    { seed: SEED, numRuns, examples },
  );
}

/**
 * X-Tenant as a caller could send it (printable ASCII: what a header may carry), on a route that
 * writes: only the default tenant (no header, or its slug) gets through; a well-formed unknown slug
 * is 404 tenant_not_found, anything else 400 invalid_tenant, and neither writes a row.
 */
const tenantHeaders = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{0,42}$/),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) }),
  fc.constantFrom('default', 'Default', ' default', 'b', 'B', '%62', 'b,b', 'b/..', 'app', '\tb'),
);

testProp.serial(
  'X-Tenant: every value is the default tenant, 404 tenant_not_found or 400 invalid_tenant, and a refusal writes nothing',
  [tenantHeaders],
  async (t, value) => {
    const sent = value.replace(/^[ \t]+|[ \t]+$/g, '');
    const expected = sent === '' || sent === 'default' ? 202 : TENANT_SLUG_PATTERN.test(sent) ? 404 : 400;
    const before = await rowCounts();
    const response = await system.request('/api/surveys', {
      method: 'POST',
      auth: authHeader({ id: OWNER }),
      headers: { 'x-tenant': value },
      body: JSON.stringify({ answers: validAnswers }),
    });
    const text = await response.text();
    const what = `X-Tenant ${JSON.stringify(value)} → ${response.status} ${clip(text)}`;
    t.is(response.status, expected, what);
    if (expected === 202) return;
    t.is(
      (JSON.parse(text) as { error: { code: string } }).error.code,
      expected === 404 ? 'tenant_not_found' : 'invalid_tenant',
      what,
    );
    t.deepEqual(await rowCounts(), before, `a refusal wrote rows\n${what}`);
  },
  { seed: SEED, numRuns: 150 },
);

test.serial('summary: each route answered both accepted and refused cases', (t) => {
  let total = 0;
  for (const route of fuzzed) {
    const { statuses, cases, planned } = seen.get(route.name)!;
    total += cases;
    const counts = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`);
    t.log(`${route.name}: ${cases} cases, ${counts.join(' ')}`);
    // A property that failed stopped early (its failure is reported above); only full runs count.
    if (cases < planned) continue;
    const codes = [...statuses.keys()];
    t.true(
      codes.some((status) => status < 300),
      `${route.name}: no case reached the handler`,
    );
    t.true(
      codes.some((status) => status >= 400),
      `${route.name}: no case was refused`,
    );
  }
  t.log(`${total} cases in all`);
});
