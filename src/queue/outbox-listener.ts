import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from '../config/logger.ts';

const RECONNECT_MS = 2_000;

/**
 * LISTEN on the channel the outbox trigger notifies at every commit that wrote outbox rows, so a
 * relay publishes within milliseconds of any process's commit without each producer having to
 * remember to nudge it. One connection per relay; it reconnects by itself, and polling covers
 * the time it is down.
 */
export function listenForOutboxWrites(orm: MikroORM, onWrite: () => void, log: Logger) {
  const connectionString = orm.config.get('clientUrl');
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let warned = false;

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new pg.Client({ connectionString, application_name: 'outbox-listener' });
    next.on('notification', () => onWrite());
    next.on('error', () => reconnect());
    next.on('end', () => reconnect());
    client = next;
    try {
      await next.connect();
      await next.query('listen outbox');
      if (warned) log.info({ event: 'outbox_listener_recovered' }, 'listening for outbox writes again');
      warned = false;
      // Rows committed while we were not listening: publish them now rather than at the next poll.
      onWrite();
    } catch (error) {
      if (!warned && !closed)
        log.warn({ event: 'outbox_listener_failed', err: error }, 'cannot listen; polling');
      warned = true;
      reconnect();
    }
  }

  function reconnect(): void {
    if (closed || timer) return;
    const dead = client;
    client = undefined;
    dead?.removeAllListeners();
    dead?.on('error', () => {});
    dead?.end().catch(() => {});
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, RECONNECT_MS);
    timer.unref();
  }

  void connect();
  return {
    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      const current = client;
      client = undefined;
      current?.removeAllListeners();
      current?.on('error', () => {});
      await current?.end().catch(() => {});
    },
  };
}
