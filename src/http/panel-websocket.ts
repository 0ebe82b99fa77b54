import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config/env.ts';
import type { Logger } from '../config/logger.ts';
import { liveEventsChannel } from '../domain/live-events.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createRedisConnection, type RedisTarget } from '../queue/redis-connection.ts';
import type { TenantDirectory } from '../tenants/tenant-directory.ts';
import { normaliseIp } from './bot-api-auth.ts';
import {
  createSocketAuthenticator,
  type Handshake,
  PanelCloseCode,
  readHandshake,
} from './panel-socket-auth.ts';

export { PanelCloseCode };

export const PANEL_WS_PATH = '/api/panel/ws';
const SUBSCRIBE_WAIT_MS = 2_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface PanelWebSocketDeps {
  config: Config;
  tenants: TenantDirectory;
  orm: MikroORM;
  redisTarget: RedisTarget;
  logger: Logger;
  /** Counts socket logins in the same telegram_auth_* metrics as REST, so auth alerts see both. */
  metrics: Metrics;
  /** How long a connection may stay unauthenticated. */
  authTimeoutMs?: number;
  /** Ping period; a socket that has not answered the previous ping by the next one is dropped. */
  heartbeatMs?: number;
  /** Sockets one client address may hold open before authenticating; more are answered 429. */
  maxPendingPerIp?: number;
}

export interface PanelWebSocketServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket with 1001, then the Redis subscriber. */
  close(): Promise<void>;
  /** Authenticated sockets on this instance (for tests and metrics). */
  connectionCount(): number;
}

/**
 * Live updates for the trainer panel. Each web instance holds one Redis pattern subscription
 * (not one per socket) and fans every message out to its own sockets of that tenant, so an event
 * published by any process — another web instance or a worker — reaches every connected panel.
 */
export function createPanelWebSocketServer(deps: PanelWebSocketDeps): PanelWebSocketServer {
  const { config, logger } = deps;
  const log = logger.child({ component: 'panel-ws' });
  const authTimeoutMs = deps.authTimeoutMs ?? 10_000;
  const heartbeatMs = deps.heartbeatMs ?? 30_000;
  const maxPendingPerIp = deps.maxPendingPerIp ?? 20;
  // Each may wait authTimeoutMs for its credentials: without a cap one address could pile them up.
  const pendingByIp = new Map<string, number>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  const byTenant = new Map<string, Set<WebSocket>>();
  const alive = new WeakSet<WebSocket>();
  const userOf = new WeakMap<WebSocket, string>();
  const sessionOf = new WeakMap<WebSocket, string>();
  const authenticate = createSocketAuthenticator({
    config,
    orm: deps.orm,
    tenants: deps.tenants,
    metrics: deps.metrics,
    log,
  });
  let closing = false;

  const channelPrefix = liveEventsChannel(config.redis.queuePrefix, '');
  // 'worker' role: a subscriber blocks by nature and must reconnect forever; ioredis re-issues
  // the psubscribe after every reconnect, so a Redis restart heals delivery by itself.
  const subscriber = createRedisConnection(deps.redisTarget, 'worker', 'web-live-events');
  const subscribed = subscriber.psubscribe(`${channelPrefix}*`).then(
    () => true,
    (error: Error) => {
      if (!closing)
        log.error({ event: 'live_subscribe_failed', err: error.message }, 'live events unavailable');
      return false;
    },
  );
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    const sockets = byTenant.get(channel.slice(channelPrefix.length));
    if (!sockets) return;
    if (message.includes('"access.changed"')) {
      // A role changed: that user's sockets close (4403); they are admitted again only with a role.
      const { type, userId } = JSON.parse(message) as { type?: string; userId?: string };
      if (type !== 'access.changed') return;
      for (const ws of sockets)
        if (userOf.get(ws) === userId) ws.close(PanelCloseCode.notAnAdmin, 'access_changed');
      return;
    }
    if (message.includes('"session.ended"')) {
      // A logout: sockets that session opened close (4401), wherever they are.
      const { type, sessionHash } = JSON.parse(message) as { type?: string; sessionHash?: string };
      if (type !== 'session.ended') return;
      for (const ws of sockets)
        if (sessionOf.get(ws) === sessionHash) ws.close(PanelCloseCode.badCredentials, 'session_ended');
      return;
    }
    // Sent verbatim: publishers already serialised a LiveEvent, and parsing per socket buys nothing.
    for (const ws of sockets) {
      if (ws.readyState !== ws.OPEN) continue;
      // A panel that cannot keep up would grow this process's memory; it reconnects and refetches.
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) ws.terminate();
      else ws.send(message);
    }
  });

  function register(ws: WebSocket, tenantId: string): void {
    const sockets = byTenant.get(tenantId) ?? new Set<WebSocket>();
    byTenant.set(tenantId, sockets);
    sockets.add(ws);
    ws.once('close', () => {
      sockets.delete(ws);
      if (sockets.size === 0 && byTenant.get(tenantId) === sockets) byTenant.delete(tenantId);
    });
  }

  function accept(ws: WebSocket, ip: string, handshake: Handshake): void {
    let state: 'waiting' | 'authenticating' | 'ready' = 'waiting';
    pendingByIp.set(ip, (pendingByIp.get(ip) ?? 0) + 1);
    // Held until the socket is really gone, not when we ask it to close: a peer that ignores the
    // close frame keeps its socket for ws's close timeout, and that must count against its address.
    const release = () => {
      ws.off('close', release);
      const left = (pendingByIp.get(ip) ?? 1) - 1;
      if (left > 0) pendingByIp.set(ip, left);
      else pendingByIp.delete(ip);
    };
    ws.once('close', release);
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    // Errors (e.g. a frame over maxPayload) are followed by a close the ws library performs itself.
    ws.on('error', () => {});
    const authTimer = setTimeout(
      () => ws.close(PanelCloseCode.badCredentials, 'auth_timeout'),
      authTimeoutMs,
    );
    ws.once('close', () => clearTimeout(authTimer));

    ws.on('message', (data, isBinary) => {
      if (state === 'ready') {
        if (!isBinary && isPing(data)) ws.send('{"type":"pong"}');
        return;
      }
      // One auth attempt per connection; anything sent while it runs is ignored.
      if (state === 'authenticating') return;
      state = 'authenticating';
      authenticate(data, isBinary, handshake)
        .then(async (outcome) => {
          if (ws.readyState !== ws.OPEN) return;
          if (!outcome.ok) {
            ws.close(outcome.code, outcome.reason);
            return;
          }
          // "ready" promises delivery from now on, so wait for the subscription to be in place, but
          // not for a Redis outage: delivery resumes by itself once the subscriber reconnects.
          await Promise.race([subscribed, sleep(SUBSCRIBE_WAIT_MS, undefined, { ref: false })]);
          if (ws.readyState !== ws.OPEN) return;
          clearTimeout(authTimer);
          state = 'ready';
          release();
          register(ws, outcome.tenantId);
          userOf.set(ws, outcome.userId);
          if (outcome.sessionHash) sessionOf.set(ws, outcome.sessionHash);
          // The socket is as good as its credentials: initData past INITDATA_MAX_AGE_SECONDS, or a
          // panel session past its expiry, must authenticate again.
          const expiry = setTimeout(
            () => ws.close(PanelCloseCode.badCredentials, outcome.expiredReason),
            Math.min(Math.max(0, outcome.expiresAt - Date.now()), 2 ** 31 - 1),
          );
          ws.once('close', () => clearTimeout(expiry));
          ws.send('{"type":"ready"}');
          log.info(
            { event: 'panel_ws_connected', userId: outcome.userId, role: outcome.role },
            'panel connected',
          );
        })
        .catch((error: Error) => {
          log.error({ event: 'panel_ws_auth_error', err: error.message }, 'panel websocket auth failed');
          if (ws.readyState === ws.OPEN) ws.close(PanelCloseCode.internalError, 'internal_error');
        });
    });
  }

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  return {
    handleUpgrade(req, socket, head) {
      const refuse = (status: string) => {
        socket.on('error', () => {}).once('finish', () => socket.destroy());
        socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      };
      if (closing) return refuse('503 Service Unavailable');
      const ip = clientIp(req, config.http.trustedProxyHops);
      if ((pendingByIp.get(ip) ?? 0) >= maxPendingPerIp) {
        log.warn({ event: 'panel_ws_pending_cap', ip }, 'too many unauthenticated panel sockets');
        // By then every socket pending now has authenticated or timed out.
        return refuse(`429 Too Many Requests\r\nRetry-After: ${Math.ceil(authTimeoutMs / 1000)}`);
      }
      const handshake = readHandshake(req, config.http.trustedProxyHops);
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, ip, handshake));
    },
    connectionCount() {
      let count = 0;
      for (const sockets of byTenant.values()) count += sockets.size;
      return count;
    },
    async close() {
      closing = true;
      clearInterval(heartbeat);
      const clients = [...wss.clients];
      const allClosed = Promise.all(
        clients.map((ws) =>
          ws.readyState === ws.CLOSED
            ? undefined
            : new Promise<void>((resolve) => ws.once('close', () => resolve())),
        ),
      );
      for (const ws of clients) ws.close(PanelCloseCode.goingAway, 'server_shutdown');
      // A peer that never answers the close frame must not hold the shutdown.
      const deadline = setTimeout(
        () => {
          for (const ws of clients) ws.terminate();
        },
        Math.min(config.shutdownTimeoutMs, 5_000),
      );
      await allClosed;
      clearTimeout(deadline);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      // Not quit(): with Redis down, a 'worker' connection queues QUIT until it reconnects, and a
      // subscriber has nothing to flush anyway.
      subscriber.disconnect();
    },
  };
}

function isPing(data: RawData): boolean {
  try {
    return (JSON.parse(data.toString()) as { type?: unknown })?.type === 'ping';
  } catch {
    return false;
  }
}

/**
 * The caller's address, as Koa's ctx.ip gives it with `proxy: true, maxIpsCount: hops`: of the last
 * `hops` X-Forwarded-For entries (those our own proxies appended) the leftmost; anything further left
 * was written by the client and proves nothing.
 */
export function clientIp(req: IncomingMessage, trustedProxyHops: number): string {
  const header = req.headers['x-forwarded-for'];
  const forwarded = trustedProxyHops > 0 && header ? String(header).split(',').slice(-trustedProxyHops) : [];
  return normaliseIp(forwarded[0]?.trim() || req.socket.remoteAddress || '');
}

/** True when an HTTP upgrade request targets the panel socket (query string ignored). */
export function isPanelWebSocketRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const end = url.indexOf('?');
  return (end === -1 ? url : url.slice(0, end)) === PANEL_WS_PATH;
}
