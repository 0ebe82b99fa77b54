import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import { ROUTES } from '../src/http/route-table.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

let system: TestSystem;
let document: {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        security: unknown[];
        parameters: Array<{ name: string; in: string }>;
        responses: Record<string, unknown>;
      }
    >
  >;
};
test.before(async () => {
  system = await startTestSystem({ worker: false });
  const response = await system.request('/api/openapi.json');
  document = await response.json();
});
test.after.always(async () => {
  await system?.stop();
});

test('GET /api/openapi.json is a valid OpenAPI 3.1 document, served to anyone', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(document as unknown as Parameters<Validator['validate']>[0]);
  t.true(result.valid, JSON.stringify(result.errors, null, 2)?.slice(0, 4000));
  t.is(validator.version, '3.1');
  t.is(document.openapi, '3.1.0');
});

test('it lists every declared route once, with its security scheme and error answers', (t) => {
  const listed = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({ path, method, operation })),
  );
  t.is(listed.length, ROUTES.length, 'one operation per declared route, no others');
  for (const route of ROUTES) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    const operation = document.paths[path]?.[route.method.toLowerCase()];
    t.truthy(operation, `${route.method} ${route.path} is documented`);
    if (!operation) continue;
    t.is(operation.operationId, route.name);
    // A Login Widget login carries its credential in the body: no security scheme describes it.
    const open = ['public', 'panelSocket', 'panelLogin'].includes(route.access.kind);
    t.is(operation.security.length === 0, open, `${route.name}: security matches its access`);
    if (route.access.kind === 'miniApp' || route.access.kind === 'panel')
      t.truthy(operation.responses['401']);
    if (route.access.kind === 'panel') t.truthy(operation.responses['403']);
    if (route.body) t.truthy(operation.responses['400']);
  }
});

test('panel operations name the permission they need, with initData or the panel session', (t) => {
  const operation = document.paths['/api/panel/admins/{telegramId}']?.put;
  t.deepEqual(operation?.security, [{ miniApp: ['manage_admins'] }, { panelSession: ['manage_admins'] }]);
  const login = document.paths['/api/panel/session']?.post;
  t.deepEqual(login?.security, []);
  t.truthy(login?.responses['429']);
});

test('API operations take the optional X-Tenant header; pages and webhooks name the tenant in their path', (t) => {
  const survey = document.paths['/api/surveys']?.post;
  const header = survey?.parameters.find((parameter) => parameter.in === 'header');
  t.like(header, { name: 'X-Tenant', required: false });
  t.truthy(survey?.responses['404'], 'an unknown tenant is documented');
  const page = document.paths['/app/{tenantSlug}/']?.get;
  t.deepEqual(
    page?.parameters.map((parameter) => `${parameter.in} ${parameter.name}`),
    ['path tenantSlug'],
  );
  t.truthy(document.paths['/panel/{tenantSlug}/']?.get);
});
