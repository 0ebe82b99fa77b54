import test from 'ava';
import { TelegramUser } from '../src/db/entities/index.ts';
import { expectError } from './helpers/expect-error.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { uniquePrefix } from './helpers/test-database.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

const OLD = 'old-secret-aaaaaaaaaaaaaaaa';
const NEW = 'new-secret-bbbbbbbbbbbbbbbbbbbb';
const SECRETS = `${OLD},${NEW}`;

let main: TestSystem;
let direct: TestSystem;
let proxied: TestSystem;
let limitedA: TestSystem;
let limitedB: TestSystem;

test.before(async () => {
  const shared = { worker: false } as const;
  const limitedEnv = {
    TELEGRAM_BOT_API_SECRET: SECRETS,
    BOT_API_RATE_LIMIT_PER_MINUTE: '5',
    BOT_API_ALLOWED_IPS: '127.0.0.1',
    // Two web instances of one deployment: same prefix, so they share the Redis budget.
    QUEUE_PREFIX: uniquePrefix('botapi'),
  };
  [main, direct, proxied, limitedA, limitedB] = await Promise.all([
    startTestSystem({ ...shared, env: { TELEGRAM_BOT_API_SECRET: SECRETS } }),
    startTestSystem({
      ...shared,
      env: { TELEGRAM_BOT_API_SECRET: SECRETS, BOT_API_ALLOWED_IPS: '10.1.2.3' },
    }),
    startTestSystem({
      ...shared,
      env: { TELEGRAM_BOT_API_SECRET: SECRETS, BOT_API_ALLOWED_IPS: '10.1.2.3', TRUST_PROXY: 'true' },
    }),
    startTestSystem({ ...shared, env: limitedEnv }),
    startTestSystem({ ...shared, env: limitedEnv }),
  ]);
});
test.after.always(async () => {
  await Promise.all([main, direct, proxied, limitedA, limitedB].map((system) => system?.stop()));
});

function call(system: TestSystem, path: string, secret?: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (secret !== undefined) headers.set('x-bot-api-secret', secret);
  return system.request(path, { ...init, headers });
}
const postUser = (system: TestSystem, body: unknown, secret = NEW) =>
  call(system, '/api/bot/users', secret, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function refusals(system: TestSystem, reason: string): Promise<number> {
  const metric = await system.metrics.botApi403.get();
  return metric.values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

const mismatchLines = (system: TestSystem) =>
  system.logs.filter((line) => line.includes('bot_secret_mismatch')).map((line) => JSON.parse(line));

test('both configured secrets are accepted, so a secret can be rotated', async (t) => {
  for (const secret of [OLD, NEW]) {
    await expectError(t, await call(main, '/api/bot/users/5551', secret), 404, 'user_not_found');
  }
});

test.serial('wrong, missing and look-alike secrets → 403, counted, logged without the secret', async (t) => {
  const before = await refusals(main, 'bad_secret');
  const logsBefore = mismatchLines(main).length;
  const wrong = [
    'totally-wrong-presented-value',
    `${OLD.slice(0, -1)}b`, // same length as a real one
    `${NEW.slice(0, -1)}c`,
    SECRETS, // both at once is not a secret
    OLD.toUpperCase(),
  ];
  for (const secret of [...wrong, undefined, '']) {
    const body = await expectError(t, await call(main, '/api/bot/users/5551', secret), 403, 'forbidden');
    t.false(JSON.stringify(body).includes('secret'), 'the body does not say which check failed');
  }
  // Secret in the wrong header, and a POST whose bad body must not be looked at before auth.
  await expectError(
    t,
    await call(main, '/api/bot/users/5551', undefined, { headers: { authorization: `Bearer ${NEW}` } }),
    403,
    'forbidden',
  );
  await expectError(t, await postUser(main, { nope: true }, 'x'), 403, 'forbidden');

  t.is((await refusals(main, 'bad_secret')) - before, wrong.length + 4);
  const lines = mismatchLines(main).slice(logsBefore);
  t.is(lines.length, wrong.length + 4);
  for (const line of lines) {
    t.is(line.ip, '127.0.0.1');
    t.is(line.reason, 'bad_secret');
    t.is(line.level, 40);
  }
  const allLogs = main.logs.join('\n');
  for (const secret of [...wrong, OLD, NEW]) t.false(allLogs.includes(secret), 'no secret in any log line');
});

test('IP allowlist: a request from elsewhere is refused even with the right secret', async (t) => {
  const before = await refusals(direct, 'ip_not_allowed');
  await expectError(t, await call(direct, '/api/bot/users/5551', NEW), 403, 'forbidden');
  // Without TRUST_PROXY the forwarded address is the caller's claim, not a fact.
  const spoofed = await call(direct, '/api/bot/users/5551', NEW, {
    headers: { 'x-forwarded-for': '10.1.2.3' },
  });
  await expectError(t, spoofed, 403, 'forbidden');
  t.is((await refusals(direct, 'ip_not_allowed')) - before, 2);
  const line = mismatchLines(direct).at(-1);
  t.like(line, { event: 'bot_secret_mismatch', reason: 'ip_not_allowed', ip: '127.0.0.1' });
  t.false(direct.logs.join('\n').includes(NEW));
});

test('TRUST_PROXY: X-Forwarded-For names the client, still checked against the allowlist', async (t) => {
  const viaProxy = (forwardedFor: string, secret = OLD) =>
    call(proxied, '/api/bot/users/5551', secret, { headers: { 'x-forwarded-for': forwardedFor } });
  await expectError(t, await viaProxy('10.1.2.3'), 404, 'user_not_found');
  await expectError(t, await viaProxy('10.9.9.9'), 403, 'forbidden');
  await expectError(t, await call(proxied, '/api/bot/users/5551', OLD), 403, 'forbidden');
  // Our proxy appends the address it saw; whatever the caller put before it is only a claim.
  await expectError(t, await viaProxy('10.1.2.3, 10.9.9.9'), 403, 'forbidden');
  await expectError(t, await viaProxy('10.9.9.9, 10.1.2.3'), 404, 'user_not_found');
  // Allowed address, wrong secret: still refused, and counted as a secret problem.
  const before = await refusals(proxied, 'bad_secret');
  await expectError(t, await viaProxy('10.1.2.3', 'nope'), 403, 'forbidden');
  t.is((await refusals(proxied, 'bad_secret')) - before, 1);
  t.like(mismatchLines(proxied).at(-1), { reason: 'bad_secret', ip: '10.1.2.3' });
});

test('rate limit is shared by instances of one deployment; the 6th request → 429', async (t) => {
  // Allowlist 127.0.0.1 lets these through: the first five succeed across both instances.
  for (const system of [limitedA, limitedB, limitedA, limitedB, limitedA]) {
    await expectError(t, await call(system, '/api/bot/users/5551', NEW), 404, 'user_not_found');
  }
  const response = await call(limitedB, '/api/bot/users/5551', NEW);
  await expectError(t, response, 429, 'rate_limited');
  const retryAfter = Number(response.headers.get('retry-after'));
  t.true(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  await expectError(t, await call(limitedA, '/api/bot/users/5551', NEW), 429, 'rate_limited');
  // Other deployments (queue prefixes) on the same Redis keep their own budget.
  await expectError(t, await call(main, '/api/bot/users/5551', NEW), 404, 'user_not_found');
});

test('POST validates every field, refuses unknown ones and malformed JSON', async (t) => {
  const valid = { telegramId: 4242, firstName: 'Ann' };
  const bad: [string, unknown][] = [
    ['no telegramId', { firstName: 'Ann' }],
    ['zero id', { ...valid, telegramId: 0 }],
    ['negative id', { ...valid, telegramId: -5 }],
    ['fractional id', { ...valid, telegramId: 1.5 }],
    ['unsafe number id', '{"telegramId": 9007199254740993, "firstName": "Ann"}'],
    ['non-digit id', { ...valid, telegramId: '12a' }],
    ['empty id', { ...valid, telegramId: '' }],
    ['21-digit id', { ...valid, telegramId: '1'.repeat(21) }],
    ['id beyond bigint', { ...valid, telegramId: '99999999999999999999' }],
    ['no firstName', { telegramId: 4242 }],
    ['empty firstName', { ...valid, firstName: '' }],
    ['long firstName', { ...valid, firstName: 'x'.repeat(257) }],
    ['numeric firstName', { ...valid, firstName: 7 }],
    ['long lastName', { ...valid, lastName: 'x'.repeat(257) }],
    ['short username', { ...valid, username: 'abc' }],
    ['bad username', { ...valid, username: 'bad-name!' }],
    ['long username', { ...valid, username: 'a'.repeat(33) }],
    ['long languageCode', { ...valid, languageCode: 'x'.repeat(17) }],
    ['unknown field', { ...valid, isClient: true }],
    ['array body', [valid]],
  ];
  for (const [label, body] of bad) {
    const response = await postUser(main, body);
    t.is(response.status, 400, label);
    const json = await response.json();
    t.is(json.error.code, 'validation_failed', label);
    t.true(Array.isArray(json.error.details), label);
  }
  await expectError(t, await postUser(main, '{"telegramId": 1,'), 400, 'malformed_json');
  const text = await call(main, '/api/bot/users', NEW, {
    method: 'POST',
    body: 'telegramId=1',
    headers: { 'content-type': 'text/plain' },
  });
  await expectError(t, text, 415, 'unsupported_media_type');
  t.is(await main.em().count(TelegramUser, { telegramId: '4242' }), 0);
});

test.serial('POST creates (201), then updates (200); GET shows the user', async (t) => {
  const created = await postUser(main, {
    telegramId: '9007199254740993',
    firstName: 'Big',
    lastName: 'Id',
    username: 'big_id',
    languageCode: 'de',
  });
  t.is(created.status, 201);
  const expected = {
    telegramId: '9007199254740993',
    firstName: 'Big',
    lastName: 'Id',
    username: 'big_id',
    languageCode: 'de',
    isClient: false,
    role: null,
    reachable: true,
    subscription: null,
    latestPlan: null,
  };
  t.deepEqual(await created.json(), expected);

  const updated = await postUser(main, {
    telegramId: '9007199254740993',
    firstName: 'Bigger',
    lastName: null,
  });
  t.is(updated.status, 200);
  const renamed = { ...expected, firstName: 'Bigger', lastName: null, username: null, languageCode: null };
  t.deepEqual(await updated.json(), renamed);
  const fetched = await call(main, '/api/bot/users/9007199254740993', OLD);
  t.is(fetched.status, 200);
  t.deepEqual(await fetched.json(), renamed);
  t.is(await main.em().count(TelegramUser, { telegramId: '9007199254740993' }), 1);
});

test.serial('POST keeps role and client status, and makes an unreachable user reachable', async (t) => {
  t.is((await postUser(main, { telegramId: 777001, firstName: 'Cli' })).status, 201);
  await main
    .em()
    .nativeUpdate(
      TelegramUser,
      { telegramId: '777001' },
      { unreachableAt: new Date(), isClient: true, role: 'trainer' },
    );
  const before = await (await call(main, '/api/bot/users/777001', NEW)).json();
  t.like(before, { reachable: false, isClient: true, role: 'trainer' });

  // Leading zeros name the same user.
  const restarted = await postUser(main, { telegramId: '000777001', firstName: 'Cli', username: 'cli_user' });
  t.is(restarted.status, 200);
  t.like(await restarted.json(), {
    telegramId: '777001',
    reachable: true,
    isClient: true,
    role: 'trainer',
    username: 'cli_user',
  });
  const row = await main.em().findOneOrFail(TelegramUser, { telegramId: '777001' });
  t.is(row.unreachableAt, null);
});

test.serial('GET shows the latest plan without its content', async (t) => {
  const auth = authHeader({ id: 777002, first_name: 'Plan' });
  const submitted = await main.request('/api/surveys', {
    method: 'POST',
    auth,
    body: JSON.stringify({ answers: validAnswers }),
  });
  t.is(submitted.status, 202);
  const { plan } = await submitted.json();
  const body = await (await call(main, '/api/bot/users/777002', NEW)).json();
  t.like(body, { telegramId: '777002', firstName: 'Plan', latestPlan: { id: plan.id, status: 'queued' } });
  t.is(typeof body.latestPlan.createdAt, 'string');
  t.false('content' in body.latestPlan);
});

test('GET unknown → 404, malformed ids → 400', async (t) => {
  await expectError(t, await call(main, '/api/bot/users/123456789', NEW), 404, 'user_not_found');
  for (const id of ['abc', '0', '12.5', '-1', '1'.repeat(21), '99999999999999999999']) {
    await expectError(t, await call(main, `/api/bot/users/${id}`, NEW), 400, 'invalid_telegram_id');
  }
});

test('text PostgreSQL cannot store (NUL, lone surrogates) is a 400 naming the field, not a 500', async (t) => {
  for (const firstName of ['Nul\u0000Name', 'Lone\ud800Surrogate', 'Low\udc00First']) {
    const response = await postUser(main, { telegramId: 4242, firstName });
    t.is(response.status, 400, firstName);
    const body = await response.json();
    t.is(body.error.code, 'validation_failed');
    t.is(body.error.details[0].path, 'firstName');
  }
});

test('every user write through the bot API leaves a trace: who (IP), which user, new or not; never the names', async (t) => {
  const first = await postUser(main, { telegramId: 4243, firstName: 'Tracey', lastName: 'Secretname' });
  t.is(first.status, 201);
  t.is((await postUser(main, { telegramId: 4243, firstName: 'Tracey' })).status, 200);
  const lines = main.logs
    .map((line) => JSON.parse(line))
    .filter((line) => line.event === 'bot_api_user_upserted' && line.telegramId === '4243');
  t.deepEqual(
    lines.map((line) => [line.created, typeof line.ip, typeof line.userId]),
    [
      [true, 'string', 'string'],
      [false, 'string', 'string'],
    ],
  );
  t.false(JSON.stringify(lines).includes('Secretname'));
});
