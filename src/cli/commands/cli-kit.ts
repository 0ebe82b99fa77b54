import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

/** The command line itself is wrong (unknown command or flag, bad value): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Where a command writes: results to stdout, hints and errors to stderr, secrets read from stdin. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** The first line of stdin (for `--bot-token -`); '' when stdin ends first. */
  readStdinLine(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface CliCommand {
  name: string;
  /** One line for the overall help. */
  summary: string;
  /** The command's own help text, shown by `<command> --help`. */
  help: string;
  options: ParseArgsOptionsConfig;
  /** Resolves with the exit code (0 unless the command says otherwise). */
  run(values: OptionValues, io: CliIo): Promise<number | undefined>;
}

/** node:util parseArgs, with its errors turned into one plain UsageError line. */
export function parseCommandArgs(command: CliCommand, argv: string[]): OptionValues {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values as OptionValues;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.replace(/\. To specify.*$/, '');
    throw new UsageError(message);
  }
}

export function requiredString(values: OptionValues, flag: string): string {
  const value = values[flag];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${flag} is required`);
  return value.trim();
}

export function optionalString(values: OptionValues, flag: string): string | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${flag} needs a value`);
  return value.trim();
}

/** A whole number in [min, max]; undefined when the flag is absent. */
export function optionalInteger(
  values: OptionValues,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  const raw = optionalString(values, flag);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return Number(raw);
}

/**
 * A secret given as a flag value, or `-` to read it from stdin so it stays out of shell history
 * and `ps`. Only the first line counts, trimmed: `echo "$TOKEN" |` adds a newline, and a person
 * pasting into a terminal ends with Enter.
 */
export async function secretArgument(
  io: CliIo,
  values: OptionValues,
  flag: string,
): Promise<string | undefined> {
  const value = optionalString(values, flag);
  if (value !== '-') return value;
  const line = (await io.readStdinLine()).trim();
  if (!line) throw new UsageError(`--${flag} -: nothing was read from stdin`);
  return line;
}

/** Fixed-width columns for human output; `--json` is the stable format for scripts. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
