import { ConfigError } from '../../config/env.ts';
import { AppError } from '../../domain/errors.ts';
import { TenantInputError } from '../../tenants/tenant-admin.ts';
import { adminGrant } from './admin-grant.ts';
import { type CliCommand, type CliIo, parseCommandArgs, UsageError } from './cli-kit.ts';
import { jobsRetryFailed } from './jobs-retry-failed.ts';
import { outboxStatus } from './outbox-status.ts';
import { secretGenerate } from './secret-generate.ts';
import { tenantCreate } from './tenant-create.ts';
import { tenantList } from './tenant-list.ts';
import { tenantRemove } from './tenant-remove.ts';
import { tenantReseal } from './tenant-reseal.ts';
import { tenantUpdate } from './tenant-update.ts';

export const COMMANDS: CliCommand[] = [
  tenantCreate,
  tenantList,
  tenantUpdate,
  tenantReseal,
  tenantRemove,
  adminGrant,
  jobsRetryFailed,
  outboxStatus,
  secretGenerate,
];

/** 0 done; 1 could not be done now (database or Telegram unreachable, config); 2 fix the command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function overallHelp(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'Usage: npm run cli -- <command> [options]',
    '',
    'Operator commands for a deployment (DATABASE_URL, REDIS_URL, TENANT_SECRET_KEY as for the processes).',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run `npm run cli -- <command> --help` for a command's options. Exit codes: 0 done, 1 failed",
    '(database, Redis or Telegram unreachable, configuration), 2 usage error or refused as asked.',
    'More: docs/operator-cli.md',
  ].join('\n');
}

/** The exit code and the one line to print for an error; never a stack trace. */
function classify(error: unknown): { code: number; line: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) return { code: EXIT.usage, line: `${message} (see --help)` };
  // Refused as asked (a taken slug, an unknown tenant, the last owner): the same command cannot
  // succeed on a retry either, so it is the operator's to change, like a usage error.
  if (error instanceof TenantInputError) return { code: EXIT.usage, line: message };
  if (error instanceof AppError && error.status < 500) return { code: EXIT.usage, line: message };
  if (error instanceof ConfigError) return { code: EXIT.failed, line: `Cannot run: ${message}` };
  return { code: EXIT.failed, line: `Failed: ${message.split('\n')[0]}` };
}

/** Runs one command line (without `node` and the script) and resolves with the exit code. */
export async function runOperatorCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((command) => command.name === rest[0]) : undefined;
    io.out(topic ? topic.help : overallHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.err(`Unknown command "${name}". Commands: ${COMMANDS.map((c) => c.name).join(', ')} (see --help)`);
    return EXIT.usage;
  }
  try {
    const values = parseCommandArgs(command, rest);
    if (values.help) {
      io.out(command.help);
      return EXIT.ok;
    }
    return (await command.run(values, io)) ?? EXIT.ok;
  } catch (error) {
    const { code, line } = classify(error);
    io.err(`${command.name}: ${line}`);
    return code;
  }
}
