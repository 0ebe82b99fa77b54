import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A sealed value that no configured key opens (a wrong or retired key), or that was altered. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Names a key without revealing it, so a sealed value says which key opens it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('coach-tenant-secret-key:').update(key).digest('hex').slice(0, 8);
}

export interface SecretBox {
  /** AES-256-GCM with the current key: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). */
  seal(plaintext: string, context: string): string;
  /** Opens a value sealed with the current or a previous key (and the same context); SecretBoxError otherwise. */
  open(sealed: string, context: string): string;
  /** True when the value was sealed with a key other than the current one (rotation pending). */
  isStale(sealed: string): boolean;
  readonly currentKeyId: string;
}

/**
 * Bot tokens and webhook secrets at rest. `keys[0]` seals; every key opens, so TENANT_SECRET_KEY
 * can rotate: add the new key with the old one in TENANT_SECRET_KEY_PREVIOUS, reseal
 * (`npm run cli -- tenant:reseal`), then drop the old key. The context (tenant id and field) is
 * bound in as additional data, so a sealed token copied onto another tenant's row does not open.
 */
export function createSecretBox(keys: Buffer[]): SecretBox {
  if (keys.length === 0) throw new SecretBoxError('no TENANT_SECRET_KEY configured');
  for (const key of keys) {
    if (key.length !== 32)
      throw new SecretBoxError('a TENANT_SECRET_KEY must be 32 bytes (64 hex characters)');
  }
  const byId = new Map(keys.map((key) => [keyIdOf(key), key]));
  const current = keys[0]!;
  const currentKeyId = keyIdOf(current);

  return {
    currentKeyId,
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, currentKeyId, iv, tag, ciphertext]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed, context) {
      const [version, keyId, iv, tag, ciphertext, extra] = sealed.split('.');
      if (version !== VERSION || !keyId || !iv || !tag || ciphertext === undefined || extra !== undefined) {
        throw new SecretBoxError('not a sealed value');
      }
      const key = byId.get(keyId);
      if (!key) throw new SecretBoxError(`sealed with key ${keyId}, which is not configured`);
      const ivBytes = Buffer.from(iv, 'base64url');
      const tagBytes = Buffer.from(tag, 'base64url');
      // GCM accepts shorter tags, which are easier to forge: only what seal() writes is accepted.
      if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
        throw new SecretBoxError('not a sealed value (wrong IV or tag length)');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
        decipher.setAuthTag(tagBytes);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new SecretBoxError(`sealed value does not open with key ${keyId} (altered or corrupt)`);
      }
    },
    isStale(sealed) {
      return sealed.split('.')[1] !== currentKeyId;
    },
  };
}
