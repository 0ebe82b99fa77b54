import { randomUUID } from 'node:crypto';
import test from 'ava';
import { invoiceKey, signInvoicePayload, verifyInvoicePayload } from '../src/billing/invoice-payload.ts';

const key = invoiceKey('1000000001:AAsomething');
const target = { tenantId: randomUUID(), planId: randomUUID(), userId: randomUUID() };

test('a signed payload fits Telegram’s 128 bytes and verifies back to its tenant, plan and user', (t) => {
  const payload = signInvoicePayload(target, key);
  t.true(Buffer.byteLength(payload) <= 128, payload);
  t.deepEqual(verifyInvoicePayload(payload, key), target);
});

test('any change to the payload, or another bot’s key, is refused', (t) => {
  const payload = signInvoicePayload(target, key);
  const parts = payload.split('.');
  const other = signInvoicePayload({ ...target, planId: randomUUID() }, key).split('.');
  const swapped = [parts[0], parts[1], other[2], parts[3], parts[4]].join('.');
  const flip = (text: string, at: number) =>
    text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
  for (const forged of [
    swapped,
    flip(payload, 5),
    flip(payload, payload.length - 1),
    payload.slice(0, -1),
    `${payload}A`,
    payload.replace(/^s1/, 's2'),
    parts.slice(0, 4).join('.'),
    '',
    'x'.repeat(200),
  ]) {
    t.is(verifyInvoicePayload(forged, key), undefined, forged);
  }
  t.is(verifyInvoicePayload(payload, invoiceKey('1000000002:AAanother')), undefined);
  t.is(verifyInvoicePayload(42, key), undefined);
});
