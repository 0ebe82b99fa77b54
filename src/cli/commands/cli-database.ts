import type { MikroORM } from '@mikro-orm/postgresql';
import { type Config, ConfigError } from '../../config/env.ts';
import { connectDatabase } from '../../processes/boot.ts';
import type { SecretBox } from '../../tenants/secret-box.ts';
import { secretBoxOf } from '../../tenants/tenant-directory.ts';

/** Where `npm start` runs its embedded PostgreSQL (src/dev/embedded-postgres.ts), for the hint. */
const EMBEDDED_DATABASE_URL = 'postgres://postgres:coach-local@127.0.0.1:54329/coach';

/** host:port of a URL without its credentials, for messages. */
export function whereOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 'default port'}`;
  } catch {
    return 'the configured address';
  }
}

/**
 * The CLI works on the deployment's database as `npm run release` does: DATABASE_URL must name
 * it (no embedded fallback: an operator command must not quietly start a database of its own),
 * and it must be migrated. Failures come back as one line naming what to fix.
 */
export async function openDatabase(config: Config): Promise<MikroORM> {
  const url = config.database.url;
  if (!url) {
    throw new ConfigError(
      `Invalid DATABASE_URL: required (while \`npm start\` runs its embedded database, use ${EMBEDDED_DATABASE_URL})`,
    );
  }
  let orm: MikroORM;
  try {
    orm = await connectDatabase({ ...config, database: { ...config.database, replicaUrls: [] } }, url);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes('pending migration')) throw error;
    throw new Error(`Cannot reach PostgreSQL at ${whereOf(url)} (DATABASE_URL): ${message}`);
  }
  return orm;
}

/** Runs `work` with a connected ORM and always closes it. */
export async function withDatabase<T>(config: Config, work: (orm: MikroORM) => Promise<T>): Promise<T> {
  const orm = await openDatabase(config);
  try {
    return await work(orm);
  } finally {
    await orm.close().catch(() => {});
  }
}

/** Sealing needs TENANT_SECRET_KEY: say so before anything else is done (a getMe, a connection). */
export function requireSecretBox(config: Config): SecretBox {
  const box = secretBoxOf(config);
  if (!box) {
    throw new ConfigError(
      'Invalid TENANT_SECRET_KEY: required to seal bot tokens (generate one: npm run -s cli -- secret:generate)',
    );
  }
  return box;
}
