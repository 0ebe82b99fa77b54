import { runWrk, type WrkResult } from './wrk.ts';

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One JSON line of `npm run bench` output. */
export type Measure = Record<string, number | string>;

/** A wrk run plus the CPU this (bench) process spent serving it, per request. */
export interface HttpRun extends WrkResult {
  cpuMsPerRequest: number;
}

/**
 * Runs wrk against a server living in THIS process and charges the process's CPU (user + system,
 * every thread) to it. The servers under test are in-process and idle between runs, and wrk is a
 * separate process, so the delta is what serving the requests cost the Node side.
 */
export async function measureHttp(options: Parameters<typeof runWrk>[0]): Promise<HttpRun> {
  const before = process.cpuUsage();
  const result = await runWrk(options);
  const used = process.cpuUsage(before);
  const cpuMsPerRequest = (used.user + used.system) / 1000 / Math.max(1, result.requests);
  if (result.non2xx > 0 || result.socketErrors > 0) {
    throw new Error(
      `${options.url}: ${result.non2xx} non-2xx responses, ${result.socketErrors} socket errors ` +
        `of ${result.requests}: the run measured failures, not the path`,
    );
  }
  return { ...result, cpuMsPerRequest };
}

/** One line per run, numbers rounded for reading. */
export function runLine(benchmark: string, side: string, pair: number, run: HttpRun): Measure {
  return {
    benchmark,
    side,
    pair,
    reqPerSec: round(run.reqPerSec),
    p50Ms: round(run.p50Ms, 2),
    p99Ms: round(run.p99Ms, 2),
    cpuMsPerRequest: round(run.cpuMsPerRequest, 3),
    requests: run.requests,
  };
}

/** Medians per side over the pairs. */
export function medians(runs: HttpRun[]) {
  return {
    reqPerSec: round(median(runs.map((r) => r.reqPerSec))),
    p50Ms: round(median(runs.map((r) => r.p50Ms)), 2),
    p99Ms: round(median(runs.map((r) => r.p99Ms)), 2),
    cpuMsPerRequest: round(median(runs.map((r) => r.cpuMsPerRequest)), 3),
  };
}

/** A side's medians as summary fields: `projectReqPerSec`, `projectP50Ms`, ... */
export function sideFields(side: string, runs: HttpRun[]): Measure {
  const m = medians(runs);
  return {
    [`${side}ReqPerSec`]: m.reqPerSec,
    [`${side}P50Ms`]: m.p50Ms,
    [`${side}P99Ms`]: m.p99Ms,
    [`${side}CpuMsPerRequest`]: m.cpuMsPerRequest,
  };
}

/** Loud progress on stderr; stdout carries only the JSON lines. */
export function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}
