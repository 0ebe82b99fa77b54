import { brotliCompressSync, gzipSync } from 'node:zlib';
import test from 'ava';
import { Survey } from '../src/db/entities/index.ts';
import { expectError } from './helpers/expect-error.ts';
import { authHeader, validAnswers } from './helpers/init-data.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

// How the API treats a body's Content-Encoding and charset: what it can read is accepted, anything
// else is a clear 4xx and writes nothing (never a 500, never silently garbled text).
let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({ worker: false, env: { PLANS_PER_USER_PER_DAY: '50' } });
});
test.after.always(async () => {
  await system?.stop();
});

const survey = JSON.stringify({ answers: validAnswers });
const submit = (body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>, id = 7700) =>
  system.request('/api/surveys', {
    method: 'POST',
    auth: authHeader({ id }),
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
const surveys = () => system.em().count(Survey, {});

test.serial('gzip and brotli bodies are decoded and accepted', async (t) => {
  t.is((await submit(new Uint8Array(gzipSync(survey)), { 'content-encoding': 'gzip' }, 7701)).status, 202);
  t.is(
    (await submit(new Uint8Array(brotliCompressSync(survey)), { 'content-encoding': 'br' }, 7702)).status,
    202,
  );
  t.is((await submit(survey, { 'content-type': 'application/json; charset=UTF-8' }, 7703)).status, 202);
});

test.serial('an unsupported Content-Encoding → 415 unsupported_encoding, nothing written', async (t) => {
  const before = await surveys();
  for (const encoding of ['compress', 'x-foo']) {
    await expectError(t, await submit(survey, { 'content-encoding': encoding }), 415, 'unsupported_encoding');
  }
  t.is(await surveys(), before);
  t.false(
    system.logs.some((line) => line.includes('"unhandled error"')),
    'not logged as a server error',
  );
});

test.serial('a body that is not what its Content-Encoding says → 400 malformed_body', async (t) => {
  const before = await surveys();
  await expectError(t, await submit(survey, { 'content-encoding': 'gzip' }), 400, 'malformed_body');
  await expectError(t, await submit(survey, { 'content-encoding': 'br' }), 400, 'malformed_body');
  const truncated = new Uint8Array(gzipSync(survey).subarray(0, 20));
  await expectError(t, await submit(truncated, { 'content-encoding': 'gzip' }), 400, 'malformed_body');
  t.is(await surveys(), before);
});

test.serial('a JSON body in another charset → 415 unsupported_charset, nothing written', async (t) => {
  const before = await surveys();
  for (const charset of ['latin-9', 'utf-16', 'x-nonsense']) {
    await expectError(
      t,
      await submit(survey, { 'content-type': `application/json; charset=${charset}` }),
      415,
      'unsupported_charset',
    );
  }
  t.is(await surveys(), before);
});
