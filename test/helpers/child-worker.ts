import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts `src/cli/worker.ts` as a real separate process, as production runs it (`node
 * src/cli/worker.ts`, Node 24 stripping the types), so a SIGKILL really hits the worker.
 */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn('node_modules/.bin/node', ['src/cli/worker.ts'], {
    env: { ...process.env, ...env, PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/**
 * Sends `signal` and waits for the exit; a worker still draining after `killAfterMs` is SIGKILLed,
 * so a teardown never hangs on it.
 */
export async function stopWorker(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  killAfterMs = 20_000,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  try {
    return await exited;
  } finally {
    clearTimeout(killer);
  }
}
