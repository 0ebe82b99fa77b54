import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one wrk run measured (latencies from wrk's own histogram, in ms). */
export interface WrkResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses outside 2xx/3xx, and socket errors (connect, read, write, timeout). */
  non2xx: number;
  socketErrors: number;
}

/** Fails early, with the install command, instead of in the middle of a run. */
export function requireWrk(): void {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      'wrk is not installed (the HTTP benchmarks drive load with it). On Debian/Ubuntu: ' +
        '`sudo apt-get install -y wrk`; elsewhere see https://github.com/wg/wrk.',
    );
  }
}

/*
 * Lua for wrk: every request takes the next Authorization header from a file (one per line), so
 * each request can be a different user; thread i starts at line i and steps by the thread count.
 * done() prints one JSON line the bench parses, latency percentiles included.
 */
const SCRIPT = `
local headers_file, method, body = os.getenv("BENCH_HEADERS"), os.getenv("BENCH_METHOD"), os.getenv("BENCH_BODY")
local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  auths = {}
  if headers_file and headers_file ~= "" then
    for line in io.lines(headers_file) do auths[#auths + 1] = line end
  end
  n = id or 0
  wrk.method = method or "GET"
  if body and body ~= "" then wrk.body = body; wrk.headers["Content-Type"] = "application/json" end
end
function request()
  if #auths > 0 then
    wrk.headers["Authorization"] = auths[(n % #auths) + 1]
    n = n + THREADS
  end
  return wrk.format()
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"micros":%d,"p50":%d,"p99":%d,"status":%d,"socket":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
`;

export async function runWrk(options: {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  body?: string;
  /** Authorization header values; requests cycle through them. */
  authHeaders?: string[];
  threads?: number;
}): Promise<WrkResult> {
  const threads = options.threads ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'script.lua');
    writeFileSync(script, SCRIPT.replace('THREADS', String(threads)));
    const headersFile = join(dir, 'auth.txt');
    writeFileSync(headersFile, `${(options.authHeaders ?? []).join('\n')}\n`);
    const args = ['-t', String(threads), '-c', String(options.connections), '-d', `${options.seconds}s`];
    args.push('--timeout', '10s', '-s', script, options.url);
    const child = spawn('wrk', args, {
      env: {
        ...process.env,
        BENCH_HEADERS: options.authHeaders?.length ? headersFile : '',
        BENCH_METHOD: options.method ?? 'GET',
        BENCH_BODY: options.body ?? '',
      },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    // Bounded: wrk stops itself after -d; a hung wrk must not hang the bench.
    const killer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(killer);
    const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${err || out}`);
    const raw = JSON.parse(line.slice('BENCH_JSON '.length));
    const seconds = raw.micros / 1e6;
    return {
      requests: raw.requests,
      seconds,
      reqPerSec: raw.requests / seconds,
      p50Ms: raw.p50 / 1000,
      p99Ms: raw.p99 / 1000,
      non2xx: raw.status,
      socketErrors: raw.socket,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
