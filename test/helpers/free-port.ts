import net from 'node:net';

/**
 * A port nothing listens on right now, for child processes that need a fixed one. Picked below the
 * kernel's ephemeral range (32768+ on Linux), so the many outgoing connections a test run makes
 * cannot take it in the seconds before the child binds it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
}
