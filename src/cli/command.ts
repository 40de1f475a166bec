import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError } from '../api/errors.js';
import { resolveLibraryDir } from '../library/paths.js';
import { openStudio, type Studio } from '../studio.js';

/** One `convnet` sub-command. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** One line per option for `--help`: the flag as typed and its meaning with its default. */
  optionHelp: OptionHelp[];
  /** Runs with parsed flags and positionals; returns the exit code. */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** Where a command writes; tests pass their own. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/** `--help`'s line for one option: `flag` as typed (`--epochs N`), `text` its meaning and default. */
export interface OptionHelp {
  flag: string;
  text: string;
}

/** `--help` lines of the flags every library command takes. */
export const LIBRARY_HELP: OptionHelp[] = [
  { flag: '--library DIR', text: 'the library folder (default: $CONVNET_LIBRARY, else the platform\'s data folder)' },
  { flag: '--json', text: 'print machine-readable JSON instead of text (default: off)' },
];

/** A command's `--help` text: summary, usage and every option with its meaning and default. */
export function commandHelp(command: Command): string {
  const lines = [...command.optionHelp, { flag: '-h, --help', text: 'show this help' }];
  const width = Math.max(...lines.map((l) => l.flag.length));
  return [`${command.summary}`, '', `Usage: ${command.usage}`, '', 'Options:', ...lines.map((l) => `  ${l.flag.padEnd(width)}  ${l.text}`), ''].join('\n');
}

/** Flags every command that touches a library accepts. */
export const LIBRARY_OPTIONS = {
  library: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Parses argv for one command; throws a usage error with the command's usage line. */
export function parseCommandArgs(command: Command, argv: string[]): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nUsage: ${command.usage}`);
  }
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** Opens the studio on the library the flags or environment name, runs `fn`, and always closes it. */
export async function withStudio<T>(args: ParsedArgs, io: CliIO, fn: (studio: Studio) => Promise<T>): Promise<T> {
  const dir = resolveLibraryDir(typeof args.values.library === 'string' ? args.values.library : null, io.env);
  const studio = openStudio({ libraryDir: dir, host: 'cli' });
  try {
    return await fn(studio);
  } finally {
    await studio.close();
  }
}

/** Prints a value as JSON on one line (for scripts) or pretty (for people). */
export function printJson(io: CliIO, value: unknown, pretty = false): void {
  io.out(JSON.stringify(value, null, pretty ? 2 : undefined) + '\n');
}

/** Formats an error for the terminal: the user-facing message, no stack for expected failures. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof UsageError) {
    return err.message;
  }
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
