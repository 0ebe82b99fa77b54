import { randomBytes } from 'node:crypto';
import { type CliCommand, optionalInteger, optionalString, UsageError } from './cli-kit.ts';

const FORMATS = ['hex', 'base64url'] as const;

export const secretGenerate: CliCommand = {
  name: 'secret:generate',
  summary: 'print a random secret (default: a TENANT_SECRET_KEY, 32 bytes as hex)',
  help: `Usage: npm run -s cli -- secret:generate [--bytes 32] [--format hex|base64url]

Prints a random secret alone on stdout (hints go to stderr), so
  TENANT_SECRET_KEY=$(npm run -s cli -- secret:generate)
captures just it. The default, 32 bytes as 64 hex characters, is a TENANT_SECRET_KEY.

Options:
  --bytes <n>        random bytes, 16 to 1024 (default 32)
  --format <format>  hex (default) or base64url
  -h, --help         this help`,
  options: { bytes: { type: 'string' }, format: { type: 'string' } },
  async run(values, io) {
    const bytes = optionalInteger(values, 'bytes', 16, 1024) ?? 32;
    const format = optionalString(values, 'format') ?? 'hex';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new UsageError(`--format must be ${FORMATS.join(' or ')}, not "${format}"`);
    }
    io.out(randomBytes(bytes).toString(format as (typeof FORMATS)[number]));
    if (bytes === 32 && format === 'hex') {
      io.err(
        'Use it as TENANT_SECRET_KEY (to rotate: move the old key to TENANT_SECRET_KEY_PREVIOUS, then tenant:reseal).',
      );
    } else {
      io.err(`${bytes} random bytes as ${format}.`);
    }
    return 0;
  },
};
