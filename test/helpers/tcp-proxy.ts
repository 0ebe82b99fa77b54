import net from 'node:net';

/**
 * A TCP proxy a test can cut and restore, to make a real dependency unreachable on purpose.
 *
 * While cut it keeps listening and drops each connection as it arrives. Closing the port instead
 * would free it, and another test file running alongside may bind the same number for its own
 * proxy to the same PostgreSQL or Redis: the "unreachable" dependency would then answer through
 * a stranger's proxy (seen as a survey accepted in the middle of a database outage).
 */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1') {
  const sockets = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  server.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    /** Drop every open connection and every new one until restore(). */
    async cut(): Promise<void> {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    async restore(): Promise<void> {
      refusing = false;
    },
    async close(): Promise<void> {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** For startTestSystem's `systemDatabaseUrl`: the same database, reached through this proxy. */
export function viaProxy(proxy: { port: number }): (url: string) => string {
  return (url) => {
    const proxied = new URL(url);
    // The proxy listens on IPv4 loopback whatever host the URL names.
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    return proxied.toString();
  };
}
