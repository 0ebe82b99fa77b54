import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../config/logger.ts';
import type { Metrics } from './metrics.ts';
import { serveMetrics } from './metrics-endpoint.ts';

/** A worker has no HTTP API; this small listener serves /metrics and /healthz for it. */
export function createWorkerMetricsServer(deps: {
  metrics: Metrics;
  port: number;
  host: string;
  token: string | undefined;
  logger: Logger;
  beforeScrape?: () => Promise<void>;
}) {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      serveMetrics(req, res, deps).catch(() => {
        res.writeHead(500).end();
      });
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"error":{"code":"not_found","message":"No such endpoint."}}');
  });
  return {
    port: () => (server.address() as AddressInfo).port,
    async start(): Promise<void> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(deps.port, deps.host, () => resolve());
      });
      deps.logger.info({ port: (server.address() as AddressInfo).port }, 'worker metrics listening');
    },
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
