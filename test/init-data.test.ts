import { createHmac } from 'node:crypto';
import test from 'ava';
import { InitDataError, signInitData, validateInitData } from '../src/telegram/init-data.ts';
import { initDataFor, TEST_BOT_TOKEN } from './helpers/init-data.ts';
import { startTestSystem } from './helpers/test-system.ts';

const NOW = new Date('2026-11-27T12:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const options = { botToken: TEST_BOT_TOKEN, maxAgeSeconds: 86_400, now: NOW };

/** Telegram's algorithm written out independently of the code under test. */
function telegramSign(fields: [string, string][], token = TEST_BOT_TOKEN): string {
  const secret = createHmac('sha256', 'WebAppData').update(token).digest();
  const check = [...fields]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  const hash = createHmac('sha256', secret).update(check).digest('hex');
  return [...fields, ['hash', hash]].map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join('&');
}

const userJson =
  '{"id":279058397,"first_name":"Vladislav + Co","last_name":"K/?&=","username":"vdkfrost","language_code":"ru","is_premium":true,"allows_write_to_pm":true}';
const baseFields: [string, string][] = [
  ['query_id', 'AAHdF6IQAAAAAN0XohDhrOrc'],
  ['user', userJson],
  ['auth_date', String(nowSeconds - 60)],
  ['signature', 'rHzjKj0aCgHc0v2dPjS1O8ZwZ2u3N8pP7Ysl3mWbVXv8yVd3wqg9KJh8o0rKc0lL'],
];

function reasonOf(t: { throws: (fn: () => unknown, e: object) => unknown }, raw: string, opts = options) {
  const error = t.throws(() => validateInitData(raw, opts), { instanceOf: InitDataError }) as InitDataError;
  return error.reason;
}

test("accepts initData signed with Telegram's algorithm, signature field included", (t) => {
  const result = validateInitData(telegramSign(baseFields), options);
  t.is(result.user.id, '279058397');
  t.is(result.user.firstName, 'Vladislav + Co');
  t.is(result.user.lastName, 'K/?&=');
  t.is(result.user.languageCode, 'ru');
  t.true(result.user.isPremium);
  t.is(result.queryId, 'AAHdF6IQAAAAAN0XohDhrOrc');
});

test('the order of fields in the query string does not matter', (t) => {
  const raw = telegramSign(baseFields).split('&').reverse().join('&');
  t.is(validateInitData(raw, options).user.id, '279058397');
});

test('a 64-bit user id keeps every digit', (t) => {
  const raw = initDataFor({ id: '9007199254740993' }, { authDate: nowSeconds });
  t.is(validateInitData(raw, options).user.id, '9007199254740993');
});

test('names with +, ?, / and spaces survive form encoding', (t) => {
  const raw = initDataFor({ id: 7, first_name: 'A+B ?/ C' }, { authDate: nowSeconds });
  t.is(validateInitData(raw, options).user.firstName, 'A+B ?/ C');
  // `+` as a form-encoded space must also be decoded before checking the hash.
  const plusSpaces = raw.replace(/%20/g, '+');
  t.is(validateInitData(plusSpaces, options).user.firstName, 'A+B ?/ C');
});

test('tampering with any field, the hash or the signature is rejected', (t) => {
  const raw = telegramSign(baseFields);
  const pairs = raw.split('&');
  for (let i = 0; i < pairs.length; i++) {
    const [key, value] = pairs[i]!.split('=') as [string, string];
    const flipped = value.slice(0, -1) + (value.endsWith('0') ? '1' : '0');
    const tampered = [...pairs];
    tampered[i] = `${key}=${flipped}`;
    t.is(reasonOf(t, tampered.join('&')), 'bad_hash', `field ${key}`);
  }
});

test('dropping a signed field, adding one or re-serialising the user JSON is rejected', (t) => {
  const raw = telegramSign(baseFields);
  t.is(
    reasonOf(
      t,
      raw
        .split('&')
        .filter((p) => !p.startsWith('query_id='))
        .join('&'),
    ),
    'bad_hash',
  );
  t.is(reasonOf(t, `${raw}&start_param=x`), 'bad_hash');
  const reserialised = raw.replace(
    encodeURIComponent(userJson),
    encodeURIComponent(JSON.stringify(JSON.parse(userJson), null, 1)),
  );
  t.is(reasonOf(t, reserialised), 'bad_hash');
});

test('a different bot token does not validate', (t) => {
  t.is(reasonOf(t, telegramSign(baseFields, '999:AAother-token-that-is-long-enough')), 'bad_hash');
});

test('expired, future and missing auth_date are rejected', (t) => {
  const at = (seconds: number) =>
    telegramSign(baseFields.map(([k, v]) => [k, k === 'auth_date' ? String(seconds) : v]));
  t.is(reasonOf(t, at(nowSeconds - 86_401)), 'expired');
  t.is(validateInitData(at(nowSeconds - 86_399), options).user.id, '279058397');
  t.is(reasonOf(t, at(nowSeconds + 3600)), 'future');
  t.is(validateInitData(at(nowSeconds + 10), options).user.id, '279058397');
  t.is(reasonOf(t, telegramSign(baseFields.filter(([k]) => k !== 'auth_date'))), 'no_auth_date');
  t.is(reasonOf(t, at(nowSeconds - 120), { ...options, maxAgeSeconds: 60 }), 'expired');
});

test('garbage, truncated and empty input are rejected as InitDataError', (t) => {
  const raw = telegramSign(baseFields);
  t.is(reasonOf(t, ''), 'missing');
  t.is(reasonOf(t, 'garbage'), 'malformed');
  t.is(reasonOf(t, raw.slice(0, raw.length - 10)), 'bad_hash');
  t.is(reasonOf(t, raw.slice(0, 40)), 'malformed');
  t.is(reasonOf(t, raw.split('&')[0]!), 'no_hash');
  t.is(reasonOf(t, '%E0%A4%A=1&hash=00'), 'malformed');
  t.is(reasonOf(t, `${raw}&hash=abc`), 'malformed');
  t.is(reasonOf(t, raw.replace(/hash=[0-9a-f]+/, 'hash=ZZZ')), 'bad_hash');
  t.is(reasonOf(t, 'x'.repeat(10_000)), 'malformed');
});

test('a signed payload without a user is rejected', (t) => {
  t.is(reasonOf(t, telegramSign(baseFields.filter(([k]) => k !== 'user'))), 'no_user');
  t.is(
    reasonOf(t, telegramSign(baseFields.map(([k, v]) => [k, k === 'user' ? '{"first_name":"x"}' : v]))),
    'no_user',
  );
  t.is(reasonOf(t, telegramSign(baseFields.map(([k, v]) => [k, k === 'user' ? 'not json' : v]))), 'no_user');
});

/** Signed initData around user JSON exactly as written, for shapes the helpers cannot produce. */
const withUserJson = (json: string, authDate = nowSeconds) =>
  signInitData({ auth_date: String(authDate), query_id: 'AAH-raw', user: json }, TEST_BOT_TOKEN);

test('the id is the top-level one, never an `id` nested in another field', (t) => {
  const raw = withUserJson('{"x":{"id":1000},"id":5005,"first_name":"Nested"}');
  t.is(validateInitData(raw, options).user.id, '5005');
  const before = withUserJson('{"id":5005,"x":[{"id":1000}],"first_name":"Nested"}');
  t.is(validateInitData(before, options).user.id, '5005');
});

test('ids up to 2^63-1 keep every digit', (t) => {
  const id = (value: string) =>
    validateInitData(initDataFor({ id: value }, { authDate: nowSeconds }), options);
  t.is(id('9007199254740993').user.id, '9007199254740993');
  t.is(id('9223372036854775807').user.id, '9223372036854775807');
  t.is(id('1').user.id, '1');
});

test('an id that is not a plain positive 64-bit integer is refused as bad_user', (t) => {
  for (const id of ['0', '-5', '1.5', '1e3', '"5"', '9223372036854775808', '123456789012345678901', 'null']) {
    t.is(reasonOf(t, initDataFor({ id }, { authDate: nowSeconds })), 'bad_user', `id ${id}`);
  }
  // A leading zero is not JSON at all, so that user is unreadable rather than bad.
  t.is(reasonOf(t, initDataFor({ id: '05' }, { authDate: nowSeconds })), 'no_user');
  t.is(reasonOf(t, withUserJson('{"id":{"id":5}}')), 'bad_user');
  t.is(reasonOf(t, withUserJson('{"id":[5]}')), 'bad_user');
});

test('a user that is not a JSON object is refused as bad_user', (t) => {
  for (const json of ['[{"id":5}]', '5', '"x"', 'null'])
    t.is(reasonOf(t, withUserJson(json)), 'bad_user', json);
});

test('text fields come out as well-formed Unicode without NUL', (t) => {
  const raw = withUserJson('{"id":7,"first_name":"A\\ud83d","last_name":"\\udc00B","username":"u\\u0000v"}');
  const { user } = validateInitData(raw, options);
  t.is(user.firstName, 'A\ufffd');
  t.is(user.lastName, '\ufffdB');
  t.is(user.username, 'uv');
  // Cutting at the length limit must not leave half of a surrogate pair behind either.
  const cut = validateInitData(withUserJson(`{"id":7,"first_name":"${'a'.repeat(255)}😀"}`), options);
  t.is(cut.user.firstName, `${'a'.repeat(255)}\ufffd`);
});

test('over HTTP: a nested id answers as the top-level id, an impossible id is 401 not 500', async (t) => {
  const system = await startTestSystem({ worker: false });
  t.teardown(() => system.stop());
  const me = (json: string) =>
    system.request('/api/me', { auth: `tma ${withUserJson(json, Math.floor(Date.now() / 1000))}` });

  const nested = await me('{"x":{"id":960001},"id":960002,"first_name":"Nested\\ud800"}');
  t.is(nested.status, 200);
  t.like(await nested.json(), { telegramId: '960002', firstName: 'Nested\ufffd' });

  for (const id of ['9223372036854775808', '1e3', '"960003"']) {
    const refused = await me(`{"id":${id},"first_name":"Big"}`);
    t.is(refused.status, 401, `id ${id}`);
    t.is((await refused.json()).error.code, 'invalid_init_data', `id ${id}`);
  }
  const errors = (await system.metrics.telegramAuthErrors.get()).values;
  t.is(errors.find((value) => value.labels.reason === 'bad_user')?.value, 3);
});
