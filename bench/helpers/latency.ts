import { percentile, round } from './measure.ts';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
}

/** Percentiles of one sample of durations (ms), rounded for reading. */
export function latencyOf(samples: number[]): Latency {
  return {
    p50Ms: round(percentile(samples, 50), 2),
    p99Ms: round(percentile(samples, 99), 2),
    maxMs: round(Math.max(...samples), 2),
    requests: samples.length,
  };
}

/**
 * One request at a time (keep-alive), `warmup` uncounted first: the latency of one panel page as
 * a coach sees it, not a throughput. The server is in this process but idle between requests, so
 * the client's share of each figure is the same small constant for every side compared.
 */
export async function sequentialGets(
  url: string,
  headers: Record<string, string>,
  options: { requests: number; warmup: number },
): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < options.warmup + options.requests; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    const ms = performance.now() - started;
    if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
    if (i >= options.warmup) samples.push(ms);
  }
  return latencyOf(samples);
}

/** The same for any async step (a raw SQL query, a job run). */
export async function sequentialRuns(
  step: () => Promise<unknown>,
  options: { runs: number; warmup: number },
): Promise<Latency & { samples: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < options.warmup + options.runs; i++) {
    const started = performance.now();
    await step();
    if (i >= options.warmup) samples.push(performance.now() - started);
  }
  return { ...latencyOf(samples), requests: samples.length, samples };
}
