import { randomBytes } from 'node:crypto';
import test from 'ava';
import { createSecretBox, SecretBoxError } from '../src/tenants/secret-box.ts';

/** Bot tokens at rest: what a leaked table, a copied column or a tampered value can and cannot do. */
const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const TOKEN = '2000000001:AAExampleTenantBotTokenForTheSecretBox';

test('a sealed token opens with its key and context, and reads as nothing like the token', (t) => {
  const box = createSecretBox([oldKey]);
  const sealed = box.seal(TOKEN, 'tenant-1:bot_token');
  t.false(sealed.includes(TOKEN) || sealed.includes('AAExample'));
  t.not(box.seal(TOKEN, 'tenant-1:bot_token'), sealed, 'a fresh IV every time');
  t.is(box.open(sealed, 'tenant-1:bot_token'), TOKEN);
});

test('a value copied onto another tenant or field does not open', (t) => {
  const box = createSecretBox([oldKey]);
  const sealed = box.seal(TOKEN, 'tenant-1:bot_token');
  t.throws(() => box.open(sealed, 'tenant-2:bot_token'), { instanceOf: SecretBoxError });
  t.throws(() => box.open(sealed, 'tenant-1:webhook_secret'), { instanceOf: SecretBoxError });
});

test('rotation: the new key seals, the previous one still opens what it sealed, an unknown key is named', (t) => {
  const before = createSecretBox([oldKey]).seal(TOKEN, 'ctx');
  const rotating = createSecretBox([newKey, oldKey]);
  t.is(rotating.open(before, 'ctx'), TOKEN);
  t.true(rotating.isStale(before));
  const resealed = rotating.seal(TOKEN, 'ctx');
  t.false(rotating.isStale(resealed));
  const afterRotation = createSecretBox([newKey]);
  t.is(afterRotation.open(resealed, 'ctx'), TOKEN);
  const error = t.throws(() => afterRotation.open(before, 'ctx'), { instanceOf: SecretBoxError });
  t.regex(error!.message, /not configured/);
});

test('tampered, truncated or malformed values are refused, never half-opened', (t) => {
  const box = createSecretBox([oldKey]);
  const sealed = box.seal(TOKEN, 'ctx');
  const [version, keyId, iv, tag, ciphertext] = sealed.split('.') as [string, string, string, string, string];
  const flipped = Buffer.from(ciphertext, 'base64url');
  flipped[0]! ^= 1;
  const variants = [
    [version, keyId, iv, tag, flipped.toString('base64url')].join('.'),
    // A 4-byte tag: GCM would check only those bytes, a forgery of 2^32 tries.
    [version, keyId, iv, Buffer.from(tag, 'base64url').subarray(0, 4).toString('base64url'), ciphertext].join(
      '.',
    ),
    [version, keyId, Buffer.from(iv, 'base64url').subarray(0, 8).toString('base64url'), tag, ciphertext].join(
      '.',
    ),
    `v2.${sealed.slice(3)}`,
    'plain-token-in-the-column',
    `${sealed}.extra`,
  ];
  for (const variant of variants)
    t.throws(() => box.open(variant, 'ctx'), { instanceOf: SecretBoxError }, variant);
});

test('a key of the wrong size stops the boot with a clear error', (t) => {
  t.throws(() => createSecretBox([randomBytes(16)]), { message: /32 bytes/ });
  t.throws(() => createSecretBox([]), { instanceOf: SecretBoxError });
});
