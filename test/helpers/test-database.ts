import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createOrm, migrateUp } from '../../src/db/orm.ts';

/** The PostgreSQL server tests create their databases on (CI and dev machines run one locally). */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database per test file, so files can run in parallel without sharing rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `coach_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database "${name}"`);
  const url = new URL(TEST_SERVER_URL);
  url.pathname = `/${name}`;
  const orm = await createOrm({ url: url.toString() });
  await migrateUp(orm);
  await orm.close();
  return {
    url: url.toString(),
    name,
    drop: () => adminQuery(`drop database if exists "${name}" with (force)`),
  };
}

export function uniquePrefix(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}
