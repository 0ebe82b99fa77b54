import { spawn } from 'node:child_process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command as an operator's shell would, with only the environment given (plus PATH with
 * our node_modules/.bin and HOME): nothing of the test runner's own environment leaks in.
 */
export function runProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<CliRun> {
  const child = spawn(command, args, {
    env: {
      PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}`,
      HOME: process.env.HOME ?? '/tmp',
      ...env,
    },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  child.stdin?.end(input);
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** `node src/cli/operator-cli.ts …`: what `npm run -s cli -- …` runs, without npm's startup. */
export function runOperatorCli(args: string[], env: Record<string, string>, input?: string): Promise<CliRun> {
  return runProcess('node', ['src/cli/operator-cli.ts', ...args], env, input);
}
