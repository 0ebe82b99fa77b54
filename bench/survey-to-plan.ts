import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DEFAULT_TENANT_ID } from '../src/db/orm.ts';
import { liveEventsChannel } from '../src/domain/live-events.ts';
import { validAnswers } from '../test/helpers/init-data.ts';
import { type Measure, percentile, progress, round } from './helpers/measure.ts';
import { benchRedis, cpuSeconds, serviceCpuSeconds } from './helpers/processes.ts';
import { type BenchSystem, seedClients, startBenchSystem } from './helpers/system-processes.ts';

const FIRST_TELEGRAM_ID = 5_400_000_000;
const DEFAULT_RATES = [25, 50, 100, 150, 200];
/** How long a step's last plans may take after its last POST before they count as missed. */
const DRAIN_MS = 20_000;
/** A survey whose plan never became ready (or whose POST failed) counts as this late. */
const MISSED_MS = Number.POSITIVE_INFINITY;

interface Survey {
  sentAt: number;
  answeredAt?: number;
  planId?: string;
  failed?: string;
}

/**
 * Survey → plan ready through the real processes at a FIXED ARRIVAL RATE: `src/cli/web.ts` and
 * `workers` × `src/cli/worker.ts` (every queue, default settings, offline generator), PostgreSQL,
 * Redis and the fake Bot API in its own process, all on this machine. An open-loop generator sends
 * each `POST /api/surveys` on schedule whether or not earlier ones finished (a slow system shows
 * as latency, not as fewer requests), every survey from a different client. A survey's latency
 * runs from the moment its POST is sent until the worker announces its plan `ready` (the
 * `plan.status` live event the panel gets, published right after the ready transaction commits;
 * the bench subscribes to it in Redis). The rate steps up; per step: p50/p99, the POST's own
 * p50/p99, and the CPU each process used (% of one core), so the binding process is visible.
 * `BENCH_E2E_RATES=25,50` overrides the steps; `BENCH_CPU_PROF=<dir>` profiles every process.
 *
 *   npm run bench -- e2e [seconds per step] [worker processes]
 */
export async function surveyToPlan(secondsPerStep = 15, workerCount = 1): Promise<Measure[]> {
  const rates = process.env.BENCH_E2E_RATES?.split(',').map(Number) ?? DEFAULT_RATES;
  const totalSurveys = 200 + rates.reduce((sum, rate) => sum + rate * secondsPerStep, 0);
  const system = await startBenchSystem({ workers: workerCount });
  const subscriber = benchRedis();
  try {
    const header = await seedClients(system, FIRST_TELEGRAM_ID, totalSurveys);
    const readyAt = new Map<string, number>();
    await subscriber.subscribe(liveEventsChannel(system.prefix, DEFAULT_TENANT_ID));
    subscriber.on('message', (_channel, message) => {
      const event = JSON.parse(message);
      if (event.type === 'plan.status' && event.status === 'ready')
        readyAt.set(event.planId, performance.now());
    });
    let nextUser = 0;
    const send = sender(system, header, () => nextUser++);

    // Warm-up (JIT, pools, the workers' boot): not measured.
    await runStep(send, readyAt, 20, 5);
    progress('warm-up done');
    const lines: Measure[] = [];
    for (const rate of rates) {
      const step = await measureStep(system, send, readyAt, rate, secondsPerStep);
      lines.push({ benchmark: 'e2e', workerProcesses: workerCount, ...step });
      progress(
        `${rate}/s: p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, missed ${step.missed}; ` +
          `CPU web ${step.webCpuPercent}%, workers ${step.workersCpuPercent}%, pg ${step.postgresCpuPercent}%`,
      );
    }
    const underOneSecond = lines.filter((line) => Number(line.p99Ms) < 1000 && line.missed === 0);
    const at100 = lines.find((line) => line.rate === 100);
    lines.push({
      benchmark: 'e2e',
      side: 'summary',
      workerProcesses: workerCount,
      secondsPerStep,
      highestRateP99Under1s: underOneSecond.length
        ? Math.max(...underOneSecond.map((l) => Number(l.rate)))
        : 0,
      p50MsAt100: at100?.p50Ms ?? 'n/a',
      p99MsAt100: at100?.p99Ms ?? 'n/a',
      target: 'at 100/s p50 < 200 ms, p99 < 1000 ms',
    });
    return lines;
  } finally {
    subscriber.disconnect();
    await system.stop();
  }
}

type Send = () => Survey;

/** Sends one survey now (not awaited): records when it left and what the web process answered. */
function sender(system: BenchSystem, header: (i: number) => string, nextUser: () => number): Send {
  const body = JSON.stringify({ answers: validAnswers });
  return () => {
    const survey: Survey = { sentAt: performance.now() };
    fetch(`${system.baseUrl}/api/surveys`, {
      method: 'POST',
      headers: { authorization: header(nextUser()), 'content-type': 'application/json' },
      body,
    }).then(
      async (res) => {
        survey.answeredAt = performance.now();
        const reply = (await res.json()) as { plan?: { id: string } };
        if (res.status === 202 && reply.plan) survey.planId = reply.plan.id;
        else survey.failed = `HTTP ${res.status}`;
      },
      (error) => {
        survey.failed = String(error);
      },
    );
    return survey;
  };
}

/**
 * Where a survey's time goes, p50 / p99 per stage, from the timestamps the processes write
 * (one machine, one clock): POST sent → transaction began (`personal_plan.created_at`: auth and
 * request parsing, waiting for the web process's event loop) → outbox row claimed by a relay
 * (`outbox.published_at`) → job started (`started_at`) → ready (`ready_at`) → the ready event
 * seen by the bench (commit and publish).
 */
async function stages(system: BenchSystem, surveys: Survey[], readyAt: Map<string, number>) {
  const ids = surveys.flatMap((s) => (s.planId ? [s.planId] : []));
  const { rows } = await system.pool.query(
    `select p.id, extract(epoch from p.created_at) * 1000 as created, extract(epoch from o.published_at) * 1000
       as published, extract(epoch from p.started_at) * 1000 as started, extract(epoch from p.ready_at) * 1000
       as ready
     from personal_plan p join outbox o on o.job_id = 'plan-' || p.id
     where p.id = any($1::uuid[]) and p.ready_at is not null`,
    [ids],
  );
  const byId = new Map(surveys.map((s) => [s.planId, s]));
  const toEpoch = (t: number) => performance.timeOrigin + t;
  const parts: Record<string, number[]> = { toTx: [], toRelay: [], toStart: [], generate: [], toEvent: [] };
  for (const row of rows) {
    const survey = byId.get(row.id)!;
    const seen = readyAt.get(row.id);
    parts.toTx!.push(Number(row.created) - toEpoch(survey.sentAt));
    parts.toRelay!.push(Number(row.published) - Number(row.created));
    parts.toStart!.push(Number(row.started) - Number(row.published));
    parts.generate!.push(Number(row.ready) - Number(row.started));
    if (seen !== undefined) parts.toEvent!.push(toEpoch(seen) - Number(row.ready));
  }
  return Object.fromEntries(
    Object.entries(parts).map(([name, values]) => [
      `${name}Ms`,
      values.length ? `${round(percentile(values, 50))} / ${round(percentile(values, 99))}` : 'n/a',
    ]),
  );
}

/** Open loop: survey n leaves at start + n/rate, whatever happened to the ones before it. */
async function runStep(send: Send, readyAt: Map<string, number>, rate: number, seconds: number) {
  const total = Math.round(rate * seconds);
  const surveys: Survey[] = [];
  const start = performance.now();
  for (let n = 0; n < total; n++) {
    const wait = start + (n * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    surveys.push(send());
  }
  const sentFor = performance.now() - start;
  const deadline = performance.now() + DRAIN_MS;
  const settled = (s: Survey) => s.failed !== undefined || (s.planId !== undefined && readyAt.has(s.planId));
  while (!surveys.every(settled) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { surveys, sentFor, lastReady: performance.now() };
}

async function measureStep(
  system: BenchSystem,
  send: Send,
  readyAt: Map<string, number>,
  rate: number,
  seconds: number,
): Promise<Measure> {
  const pids = system.pids();
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid)]));
  const postgresPids = await system.postgresPids();
  const servicesBefore = serviceCpuSeconds(postgresPids);
  const benchBefore = process.cpuUsage();
  const wallStart = performance.now();
  const { surveys, sentFor } = await runStep(send, readyAt, rate, seconds);
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const percentOfCore = (seconds: number) => Math.round((100 * seconds) / wallSeconds);
  const cpu = Object.fromEntries(
    Object.entries(pids).map(([role, pid]) => [role, cpuSeconds(pid) - cpuBefore[role]!]),
  );
  const services = serviceCpuSeconds(postgresPids);
  const benchCpu = process.cpuUsage(benchBefore);

  const latencies = surveys.map((s) =>
    s.planId && readyAt.has(s.planId) ? readyAt.get(s.planId)! - s.sentAt : MISSED_MS,
  );
  const answered = surveys.filter((s) => s.answeredAt !== undefined).map((s) => s.answeredAt! - s.sentAt);
  const failed = surveys.filter((s) => s.failed);
  const missed = latencies.filter((l) => l === MISSED_MS).length;
  const show = (ms: number) => (Number.isFinite(ms) ? round(ms, 1) : `> ${DRAIN_MS / 1000} s`);
  const workersCpu = Object.entries(cpu)
    .filter(([role]) => role.startsWith('worker'))
    .reduce((sum, [, value]) => sum + value, 0);
  return {
    rate,
    surveys: surveys.length,
    achievedRate: round(surveys.length / (sentFor / 1000)),
    p50Ms: show(percentile(latencies, 50)),
    p90Ms: show(percentile(latencies, 90)),
    p99Ms: show(percentile(latencies, 99)),
    maxMs: show(Math.max(...latencies)),
    postP50Ms: round(percentile(answered, 50), 1),
    postP99Ms: round(percentile(answered, 99), 1),
    ...(await stages(system, surveys, readyAt)),
    missed,
    failedPosts: failed.length,
    ...(failed[0] ? { firstFailure: failed[0].failed! } : {}),
    // CPU per survey is less sensitive to other load on the machine than latency is.
    webCpuMsPerSurvey: round((1000 * cpu.web!) / surveys.length, 2),
    workersCpuMsPerSurvey: round((1000 * workersCpu) / surveys.length, 2),
    postgresCpuMsPerSurvey: round((1000 * (services.postgres - servicesBefore.postgres)) / surveys.length, 2),
    webCpuPercent: percentOfCore(cpu.web!),
    workersCpuPercent: percentOfCore(workersCpu),
    postgresCpuPercent: percentOfCore(services.postgres - servicesBefore.postgres),
    redisCpuPercent: percentOfCore(services.redis - servicesBefore.redis),
    benchCpuPercent: percentOfCore((benchCpu.user + benchCpu.system) / 1e6),
    stepSeconds: round(wallSeconds, 1),
    // Other work on the machine (the 1-minute load average includes this system's own processes).
    load1: round(loadavg()[0]!, 1),
  };
}
