import type { Pool, PoolClient } from 'pg';

/**
 * Gives a pool slot back when its connection dies while checked out.
 *
 * Kysely (under MikroORM) acquires a client for a transaction and then sends BEGIN; when the
 * connection drops at that moment (PostgreSQL restart, failover, network cut) BEGIN rejects and
 * nobody ever calls release(), and the same happens when both COMMIT and ROLLBACK fail. pg-pool
 * keeps counting such a client as busy, so every database blip under load permanently shrinks
 * the pool until requests can only wait for a connection, and `pool.end()` (shutdown) waits for
 * it forever. Here a checked-out client whose connection ends or errors is released with an
 * error (pg-pool then discards it), and a later release by its holder is a no-op.
 */
export function releaseDeadClients(pool: Pool): void {
  const connect = pool.connect.bind(pool) as () => Promise<PoolClient>;
  const guarded = async (): Promise<PoolClient> => {
    const client = await connect();
    const releaseToPool = client.release;
    let released = false;
    const release = (error?: Error | boolean) => {
      if (released) return;
      released = true;
      client.removeListener('end', onDead);
      client.removeListener('error', onDead);
      releaseToPool(error);
    };
    function onDead(error?: Error) {
      release(error instanceof Error ? error : new Error('PostgreSQL connection ended while checked out'));
    }
    client.once('end', onDead);
    client.once('error', onDead);
    client.release = release;
    return client;
  };
  // Kysely only uses the promise form; callers passing a callback keep pg-pool's own behaviour.
  pool.connect = ((callback?: unknown) =>
    typeof callback === 'function'
      ? (connect as (cb: unknown) => void)(callback)
      : guarded()) as Pool['connect'];
}
