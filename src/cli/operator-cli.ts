import { createInterface } from 'node:readline';
import { runOperatorCli } from './commands/run-operator-cli.ts';

/**
 * `npm run cli -- <command>`: the operator's commands (docs/operator-cli.md). Results go to
 * stdout, hints and errors to stderr as one line each; the exit code says which (run-operator-cli.ts).
 */
/** One line from stdin: piped (`<<< "$TOKEN"`, `< file`) or typed into a terminal after a prompt. */
async function readStdinLine(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Paste the bot token, then press Enter: ');
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

const code = await runOperatorCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  readStdinLine,
  env: process.env,
});
// Exit once the output is flushed: a client library's idle timer must not keep the CLI alive.
process.stdout.write('', () => process.exit(code));
