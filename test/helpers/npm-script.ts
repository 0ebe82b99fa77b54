import { type ChildProcess, spawn } from 'node:child_process';

export interface NpmScript {
  child: ChildProcess;
  /** Everything the script's node process wrote to stdout so far (its JSON log lines). */
  output(): string;
  /** Resolves with npm's exit code. */
  exited: Promise<number | null>;
  /** Sends `signal` to the whole process group (npm and node), as a platform or Ctrl-C does. */
  signalGroup(signal: NodeJS.Signals): void;
  /** SIGKILLs whatever of the group is left; for teardown. */
  kill(): void;
}

/**
 * Runs `npm run <script>` the way a Procfile platform does, as the leader of its own process group
 * (`detached`), so a test can signal the group as a whole and teardown can kill everything in it.
 */
export function runNpmScript(script: string, env: Record<string, string>): NpmScript {
  const child = spawn('npm', ['run', '--silent', script], {
    env: { ...process.env, ...env, PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

/** The `msg` of every JSON log line in `output`. */
export function logMessages(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line).msg as string);
}
