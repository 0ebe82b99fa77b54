import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameSecret } from '../security/constant-time.ts';
import type { Metrics } from './metrics.ts';

/**
 * The Prometheus exposition, shared by the web process (GET /metrics) and the workers' own small
 * listener. With METRICS_TOKEN set, scrapers must send `Authorization: Bearer <token>`.
 */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { metrics: Metrics; token: string | undefined; beforeScrape?: () => Promise<void> },
): Promise<void> {
  if (deps.token) {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match || !sameSecret(match[1]!, deps.token)) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Metrics need the bearer token.' } }));
      return;
    }
  }
  await deps.beforeScrape?.();
  const body = await deps.metrics.registry.metrics();
  res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
  res.end(body);
}
