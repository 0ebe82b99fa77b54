import { createHmac } from 'node:crypto';
import test from 'ava';
import { Outbox } from '../src/db/entities/index.ts';
import { expectError } from './helpers/expect-error.ts';
import { startTestSystem, type TestSystem } from './helpers/test-system.ts';

/**
 * POST /api/billing/webhook as the billing service and as an attacker would call it: only a body
 * signed with BILLING_WEBHOOK_SECRET, sent within the replay window, queues a billing.sync, and
 * the same delivery twice is one job.
 */
const SECRET = 'billing-webhook-test-secret-0123';
const TOLERANCE_SECONDS = 300;
const PATH = '/api/billing/webhook';

let system: TestSystem;
test.before(async () => {
  system = await startTestSystem({
    worker: false,
    tenants: [{ slug: 'b' }],
    env: { BILLING_WEBHOOK_SECRET: SECRET, BILLING_WEBHOOK_TOLERANCE_SECONDS: String(TOLERANCE_SECONDS) },
  });
});
test.after.always(async () => {
  await system?.stop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const sign = (raw: string, secret = SECRET) => createHmac('sha256', secret).update(raw).digest('hex');

function post(raw: string, headers: Record<string, string> = {}) {
  return system.request(PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  });
}

/** Every billing.sync the webhook queued, oldest first. */
async function webhookJobs() {
  const rows = await system.em().find(Outbox, { jobName: 'billing.sync' }, { orderBy: { id: 'asc' } });
  return rows.filter((row) => row.payload.trigger === 'webhook');
}

test.serial('a signed, fresh delivery queues one billing.sync of exactly those users', async (t) => {
  const before = (await webhookJobs()).length;
  const raw = JSON.stringify({ userIds: ['279058397', '0042', '279058397'], sentAt: nowSeconds() });
  const response = await post(raw, { 'x-billing-signature': sign(raw) });
  t.is(response.status, 202);
  t.deepEqual(await response.json(), { queued: true });
  const jobs = await webhookJobs();
  t.is(jobs.length, before + 1);
  const job = jobs.at(-1)!;
  t.is(job.queue, 'billing');
  // Ids are normalised ("0042" is user 42) and each user is synced once.
  t.deepEqual(job.payload.telegramIds, ['279058397', '42']);
  t.regex(String(job.payload.requestKey), /^[0-9a-f]{32}$/);
  t.false(job.jobId.includes(sign(raw)), 'the signature itself is not stored');
});

test.serial('the same delivery twice (redelivery, replay, either header form) is one job', async (t) => {
  const before = (await webhookJobs()).length;
  const raw = JSON.stringify({ userIds: ['555001'], sentAt: nowSeconds() });
  const signature = sign(raw);
  for (const header of [signature, `sha256=${signature}`, signature.toUpperCase(), ` ${signature} `]) {
    const response = await post(raw, { 'x-billing-signature': header });
    t.is(response.status, 202, header);
  }
  t.is((await webhookJobs()).length, before + 1);
});

test.serial('a signed delivery naming another tenant is 400 and queues nothing for anyone', async (t) => {
  // The service knows users by Telegram id only, and X-Tenant is outside its signature: a captured
  // delivery replayed with `X-Tenant: b` must not sync those ids into coach b's clients.
  const count = async () =>
    Number(
      (
        await system
          .em()
          .getConnection()
          .execute<{ n: string }[]>(`select count(*) as n from outbox where job_name = 'billing.sync'`)
      )[0]!.n,
    );
  const before = await count();
  const raw = JSON.stringify({ userIds: ['555003'], sentAt: nowSeconds() });
  const response = await post(raw, { 'x-billing-signature': sign(raw), 'x-tenant': 'b' });
  await expectError(t, response, 400, 'tenant_not_supported');
  t.is(await count(), before);
});

test.serial('another delivery of the same users later is another job', async (t) => {
  const before = (await webhookJobs()).length;
  const first = JSON.stringify({ userIds: ['555002'], sentAt: nowSeconds() - 5 });
  const second = JSON.stringify({ userIds: ['555002'], sentAt: nowSeconds() });
  t.is((await post(first, { 'x-billing-signature': sign(first) })).status, 202);
  t.is((await post(second, { 'x-billing-signature': sign(second) })).status, 202);
  t.is((await webhookJobs()).length, before + 2);
});

test.serial('the signature is over the raw bytes: the same JSON reformatted does not match', async (t) => {
  const before = (await webhookJobs()).length;
  const body = { userIds: ['555003'], sentAt: nowSeconds() };
  const compact = JSON.stringify(body);
  const pretty = JSON.stringify(body, null, 2);
  await expectError(
    t,
    await post(pretty, { 'x-billing-signature': sign(compact) }),
    401,
    'invalid_signature',
  );
  t.is((await webhookJobs()).length, before);
  // Signed as sent, the pretty body is fine.
  t.is((await post(pretty, { 'x-billing-signature': sign(pretty) })).status, 202);
});

test.serial(
  'missing, malformed, wrong-key and other-body signatures are 401 and queue nothing',
  async (t) => {
    const before = (await webhookJobs()).length;
    const raw = JSON.stringify({ userIds: ['555004'], sentAt: nowSeconds() });
    const other = JSON.stringify({ userIds: ['555005'], sentAt: nowSeconds() });
    const cases: Record<string, Record<string, string>> = {
      missing: {},
      empty: { 'x-billing-signature': '' },
      'not hex': { 'x-billing-signature': 'z'.repeat(64) },
      'too short': { 'x-billing-signature': sign(raw).slice(0, 63) },
      'too long': { 'x-billing-signature': `${sign(raw)}00` },
      'another algorithm': { 'x-billing-signature': `sha1=${sign(raw)}` },
      'wrong key': { 'x-billing-signature': sign(raw, 'another-secret-of-16-chars') },
      'another body': { 'x-billing-signature': sign(other) },
      'the secret itself': { 'x-billing-signature': SECRET },
      'the Telegram header instead': { 'x-telegram-bot-api-secret-token': SECRET },
    };
    for (const [name, headers] of Object.entries(cases)) {
      const body = await expectError(t, await post(raw, headers), 401, 'invalid_signature');
      t.false(JSON.stringify(body).includes(sign(raw)), `${name}: the expected signature is not revealed`);
    }
    t.is((await webhookJobs()).length, before);
    t.true(system.logs.some((line) => line.includes('billing_webhook_signature_mismatch')));
  },
);

test.serial('sentAt outside the replay window, either way, is 401 stale_webhook', async (t) => {
  const before = (await webhookJobs()).length;
  for (const sentAt of [nowSeconds() - TOLERANCE_SECONDS - 30, nowSeconds() + TOLERANCE_SECONDS + 30, 0]) {
    const raw = JSON.stringify({ userIds: ['555006'], sentAt });
    await expectError(t, await post(raw, { 'x-billing-signature': sign(raw) }), 401, 'stale_webhook');
  }
  t.is((await webhookJobs()).length, before);
});

test.serial('signed bodies of the wrong shape are 400 and queue nothing', async (t) => {
  const before = (await webhookJobs()).length;
  const sentAt = nowSeconds();
  const bodies = [
    {},
    { userIds: [], sentAt },
    { userIds: ['abc'], sentAt },
    { userIds: [279058397], sentAt },
    { userIds: ['-5'], sentAt },
    { userIds: ['99999999999999999999'], sentAt },
    { userIds: Array.from({ length: 1001 }, (_, i) => String(i + 1)), sentAt },
    { userIds: ['1'], sentAt: String(sentAt) },
    { userIds: ['1'], sentAt: sentAt + 0.5 },
    { userIds: ['1'] },
    [],
    'text',
  ];
  for (const body of bodies) {
    const raw = JSON.stringify(body);
    const response = await post(raw, { 'x-billing-signature': sign(raw) });
    // jsonStrict refuses a top-level string before anything else looks at it.
    const code = typeof body === 'string' ? 'malformed_json' : 'validation_failed';
    await expectError(t, response, 400, code);
  }
  t.is((await webhookJobs()).length, before);
});

test.serial('bad JSON, a body over 64 KB and a non-JSON content type are JSON errors', async (t) => {
  const before = (await webhookJobs()).length;
  const broken = '{"userIds": ["1"], "sentAt": ';
  await expectError(t, await post(broken, { 'x-billing-signature': sign(broken) }), 400, 'malformed_json');
  const huge = JSON.stringify({ userIds: ['1'], sentAt: nowSeconds(), padding: 'x'.repeat(70_000) });
  await expectError(t, await post(huge, { 'x-billing-signature': sign(huge) }), 413, 'payload_too_large');
  const raw = JSON.stringify({ userIds: ['1'], sentAt: nowSeconds() });
  const asText = await post(raw, { 'content-type': 'text/plain', 'x-billing-signature': sign(raw) });
  await expectError(t, asText, 415, 'unsupported_media_type');
  t.is((await webhookJobs()).length, before);
});

test.serial('only POST: other methods are 405', async (t) => {
  const response = await system.request(PATH);
  await expectError(t, response, 405, 'method_not_allowed');
});

test('without BILLING_WEBHOOK_SECRET the endpoint answers 404 like an unknown path', async (t) => {
  const off = await startTestSystem({ worker: false });
  try {
    const raw = JSON.stringify({ userIds: ['1'], sentAt: nowSeconds() });
    const response = await off.request(PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-billing-signature': sign(raw) },
      body: raw,
    });
    await expectError(t, response, 404, 'not_found');
    const rows = await off.em().find(Outbox, { jobName: 'billing.sync' });
    t.is(rows.filter((row) => row.payload.trigger === 'webhook').length, 0);
  } finally {
    await off.stop();
  }
});
