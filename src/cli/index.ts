import { commandHelp, describeError, parseCommandArgs, UsageError, type CliIO, type Command } from './command.js';
import { classifyCommand } from './classify.js';
import { datasetsCommand } from './datasets.js';
import { explainCommand } from './explain.js';
import { exportCommand, modelsCommand } from './export.js';
import { importCommand } from './import.js';
import { infoCommand } from './info.js';
import { lrFindCommand } from './lr-find.js';
import { resplitCommand } from './resplit.js';
import { runsCommand } from './runs.js';
import { serveCommand } from './serve.js';
import { suspectsCommand } from './suspects.js';
import { evalCommand, resumeCommand, trainCommand } from './train.js';
import { pkg } from '../version.js';

/** Every `convnet` sub-command, in the order `--help` lists them. */
export const commands: Command[] = [infoCommand, importCommand, datasetsCommand, resplitCommand, trainCommand, lrFindCommand, runsCommand, resumeCommand, evalCommand, classifyCommand, explainCommand, suspectsCommand, exportCommand, modelsCommand, serveCommand];

/** The top-level help text. */
export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    `convnet — ConvNet Studio ${pkg.version} on the command line`,
    '',
    'Usage: convnet <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Every command that reads a library takes --library DIR (or CONVNET_LIBRARY); --json prints machine-readable output.',
    'Run `convnet <command> --help` for a command\'s options.',
    '',
  ].join('\n');
}

/** Runs the CLI with argv (without node and script); returns the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(helpText());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${pkg.version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`Unknown command "${name}".\n\n${helpText()}`);
    return 2;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help) {
      io.out(commandHelp(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (err) {
    io.err(`convnet ${command.name}: ${describeError(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

/** The process-level entry: real stdout/stderr, exit code on finish. */
export async function main(): Promise<void> {
  // `convnet … | head` closes stdout early: end quietly instead of crashing on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      process.exit(process.exitCode ?? 0);
    }
    throw err;
  });
  const io: CliIO = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
