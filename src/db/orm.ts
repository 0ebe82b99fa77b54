import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type EntityManager, MikroORM, type Options } from '@mikro-orm/postgresql';
import { allEntities, tenantScopedEntities } from './entities/index.ts';
import { migrationsList } from './migrations/index.ts';
import { releaseDeadClients } from './release-dead-clients.ts';

export type { EntityManager };

/** Every install starts with this tenant; multi-trainer support adds more rows later. */
export const DEFAULT_TENANT_ID = '00000000-0000-4000-8000-000000000001';

export interface OrmOptions {
  url: string;
  replicaUrls?: string[];
  poolMax?: number;
  debug?: boolean;
}

export function ormConfig(options: OrmOptions): Options {
  return defineConfig({
    clientUrl: options.url,
    entities: allEntities,
    extensions: [Migrator],
    pool: { min: 0, max: options.poolMax ?? 10 },
    // A PostgreSQL that hangs (partition, failover) must not hang requests and jobs: give up on
    // connecting after 3 s and on any statement after 15 s; both surface as 503 / a job retry.
    driverOptions: {
      connectionTimeoutMillis: 3_000,
      statement_timeout: 15_000,
      query_timeout: 20_000,
      onPoolCreated: releaseDeadClients,
    },
    replicas: (options.replicaUrls ?? []).map((clientUrl, index) => ({
      name: `replica-${index + 1}`,
      clientUrl,
    })),
    // Reads go to the primary unless a caller asks for a replica: read-your-writes matters more
    // on the Mini App paths than offloading, and the panel opts in explicitly.
    preferReadReplicas: false,
    debug: options.debug ?? false,
    // Migrations only: schema sync at boot would race between processes and hide drift.
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    filters: {
      tenant: {
        cond: (args: { tenantId: string }) => ({ tenantId: args.tenantId }),
        entity: tenantScopedEntities.map((schema) => schema.meta.className),
        default: true,
      },
    },
    // Unflushed managed entities must not leak between requests: every request/job forks.
    allowGlobalContext: false,
  });
}

export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  return MikroORM.init(ormConfig(options));
}

/** A fresh EntityManager for one request or one job, scoped to one tenant. */
export function forkForTenant(orm: MikroORM, tenantId: string = DEFAULT_TENANT_ID): EntityManager {
  const em = orm.em.fork({ clear: true });
  em.setFilterParams('tenant', { tenantId });
  return em;
}

export async function migrateUp(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((migration) => migration.name);
}
