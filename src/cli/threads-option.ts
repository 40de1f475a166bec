import os from 'node:os';
import { MAX_THREADS } from '../backends/index.js';
import { UsageError, type OptionHelp, type ParsedArgs } from './command.js';

/** The `--threads N` option of train, eval and classify. */
export const THREADS_OPTION = { threads: { type: 'string' } } as const;

/** Its help line. */
export const THREADS_HELP: OptionHelp = {
  flag: '--threads N',
  text: `compute threads of the wasm backend (default: $CONVNET_THREADS, else every core: ${os.availableParallelism()} here)`,
};

/** The number given with --threads (a whole number from 1 to 256), or undefined when none was. */
export function threadsOption(args: ParsedArgs): number | undefined {
  const raw = args.values.threads;
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new UsageError(`--threads must be a whole number from 1 to ${MAX_THREADS}, got "${String(raw)}".`);
  }
  return value;
}

/**
 * Hands --threads to the worker threads this command starts (evaluation, classification): they read
 * CONVNET_THREADS from the environment they inherit when they start.
 */
export function passThreadsToWorkers(args: ParsedArgs): void {
  const threads = threadsOption(args);
  if (threads !== undefined) {
    process.env.CONVNET_THREADS = String(threads);
  }
}
