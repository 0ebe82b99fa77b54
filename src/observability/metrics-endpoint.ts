import type { IncomingMessage, ServerResponse } from 'node:http';
import { sameSecret } from '../security/constant-time.ts';
import type { Metrics } from './metrics.ts';

/** `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time (web and worker listeners). */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  return match !== null && sameSecret(match[1]!, token);
}

/**
 * The Prometheus exposition of the workers' own small listener (the web process serves GET
 * /metrics from its route table). With METRICS_TOKEN set, scrapers must send the bearer token.
 */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  deps: { metrics: Metrics; token: string | undefined; beforeScrape?: () => Promise<void> },
): Promise<void> {
  if (deps.token) {
    if (!bearerTokenMatches(req.headers.authorization, deps.token)) {
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
