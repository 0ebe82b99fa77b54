import type { MikroORM } from '@mikro-orm/postgresql';
import { Tenant } from '../db/entities/index.ts';
import type { SecretBox } from './secret-box.ts';
import { sealContext } from './tenant-directory.ts';

export interface ResealReport {
  /** Sealed values re-encrypted with the current key now. */
  resealed: number;
  /** Sealed values already under the current key (a second run finds only these). */
  current: number;
  /** Values no configured key opens: left exactly as they are, named here for the operator. */
  unreadable: Array<{ slug: string; field: 'bot_token' | 'webhook_secret'; problem: string }>;
}

const FIELDS = [
  { field: 'bot_token', column: 'bot_token_sealed', property: 'botTokenSealed' },
  { field: 'webhook_secret', column: 'webhook_secret_sealed', property: 'webhookSecretSealed' },
] as const;

/**
 * Key rotation, step two: every sealed value opened with whichever configured key sealed it and
 * sealed again with the current one. Idempotent. A value that does not open is reported and kept:
 * destroying it would lose a bot token that the right key (not configured here) still opens. Each
 * value is written only if it is still the one that was read, so a token rotated meanwhile by
 * tenant:update is never overwritten with the old one.
 */
export async function resealTenantSecrets(orm: MikroORM, box: SecretBox): Promise<ResealReport> {
  const em = orm.em.fork({ clear: true });
  const tenants = await em.find(Tenant, {}, { orderBy: { createdAt: 'asc' } });
  const report: ResealReport = { resealed: 0, current: 0, unreadable: [] };
  const connection = em.getConnection();
  for (const tenant of tenants) {
    for (const { field, column, property } of FIELDS) {
      const sealed = tenant[property];
      if (!sealed) continue;
      if (!box.isStale(sealed)) {
        report.current += 1;
        continue;
      }
      let plaintext: string;
      try {
        plaintext = box.open(sealed, sealContext(tenant.id, field));
      } catch (error) {
        report.unreadable.push({ slug: tenant.slug, field, problem: (error as Error).message });
        continue;
      }
      const resealed = box.seal(plaintext, sealContext(tenant.id, field));
      const result = await connection.execute<{ affectedRows: number }>(
        `update tenant set ${column} = ?, updated_at = now() where id = ? and ${column} = ?`,
        [resealed, tenant.id, sealed],
        'run',
      );
      if (result.affectedRows === 1) report.resealed += 1;
    }
  }
  return report;
}
