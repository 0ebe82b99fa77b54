import type { Middleware } from 'koa';

/**
 * While the process drains, every response says `Connection: close`. Node's server.close() stops
 * new connections only: a busy keep-alive connection would go on carrying new requests until the
 * shutdown deadline cut it, mid-request. Closing each connection after its current response lets
 * clients (and load balancers) move to another instance instead.
 */
export function closeConnectionsWhenDraining(isShuttingDown: () => boolean): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (isShuttingDown()) ctx.set('Connection', 'close');
    }
  };
}
