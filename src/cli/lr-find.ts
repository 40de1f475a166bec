import type { TrainConfigInput } from '../api/runs.js';
import { resolveConfig } from '../runs/config.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type Command, type ParsedArgs } from './command.js';
import { datasetIdOf } from './train.js';

function number(args: ParsedArgs, name: string, integer: boolean): number | undefined {
  const raw = args.values[name];
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${String(raw)}".`);
  }
  return value;
}

/**
 * `convnet lr-find`: the learning-rate range test on a dataset (one SGD step per exponentially growing rate,
 * on a network held in memory, in a worker); prints the suggested rate, or with `--json`
 * `{"suggested": x, "curve": [{lr, loss, smoothed}], ...}`. Creates no run: only its own lr_finds record.
 */
export const lrFindCommand: Command = {
  name: 'lr-find',
  summary: 'Learning-rate range test: the loss over a sweep of growing rates, and a suggested rate',
  usage: 'convnet lr-find --dataset ID|NAME [--arch A] [--image-size N] [--batch-size N] [--steps N] [--min-lr X] [--max-lr X] [--seed N] [--library DIR] [--json]',
  optionHelp: [
    { flag: '--dataset ID|NAME', text: 'the dataset to sweep on (required; its training split)' },
    { flag: '--arch NAME', text: 'alexnet-2012, alexnet or alexnet-small (default: alexnet-small)' },
    { flag: '--image-size N', text: "network input side in pixels (default: the architecture's)" },
    { flag: '--batch-size N', text: 'images per SGD step (default: 128)' },
    { flag: '--steps N', text: 'SGD steps, one rate each (default: 100)' },
    { flag: '--min-lr X', text: 'first rate of the sweep (default: 1e-5)' },
    { flag: '--max-lr X', text: 'last rate of the sweep; it ends earlier when the loss blows up (default: 1)' },
    { flag: '--seed N', text: 'seed of the weights, data order and augmentation (default: 1)' },
    ...LIBRARY_HELP,
  ],
  options: {
    ...LIBRARY_OPTIONS,
    dataset: { type: 'string' },
    arch: { type: 'string' },
    'image-size': { type: 'string' },
    'batch-size': { type: 'string' },
    steps: { type: 'string' },
    'min-lr': { type: 'string' },
    'max-lr': { type: 'string' },
    seed: { type: 'string' },
  },
  async run(args, io) {
    if (typeof args.values.dataset !== 'string') {
      throw new UsageError(`--dataset is required.\nUsage: ${this.usage}`);
    }
    const dataset = args.values.dataset;
    const json = Boolean(args.values.json);
    return withStudio(args, io, async (studio) => {
      const input: TrainConfigInput = { datasetId: await datasetIdOf(studio, dataset) };
      if (typeof args.values.arch === 'string') {
        input.arch = args.values.arch as TrainConfigInput['arch'];
      }
      const imageSize = number(args, 'image-size', true);
      const batchSize = number(args, 'batch-size', true);
      const seed = number(args, 'seed', true);
      if (imageSize !== undefined) {input.imageSize = imageSize;}
      if (batchSize !== undefined) {input.batchSize = batchSize;}
      if (seed !== undefined) {input.seed = seed;}
      let config;
      try {
        config = resolveConfig(input);
      } catch (err) {
        throw new UsageError(`Invalid options: ${(err as Error).message}`);
      }
      let last = -1;
      const stop = studio.events.on('lrfinder.progress', (p) => {
        if (!json && (p.step === 0 || p.step - last >= 10 || p.step === p.steps)) {
          last = p.step;
          io.err(`${p.message}${p.loss === null ? '' : `: loss ${p.loss.toFixed(4)}`}\n`);
        }
      });
      try {
        const result = await studio.call('lrfinder.run', {
          config,
          ...(number(args, 'steps', true) !== undefined ? { steps: number(args, 'steps', true) } : {}),
          ...(number(args, 'min-lr', false) !== undefined ? { minLr: number(args, 'min-lr', false) } : {}),
          ...(number(args, 'max-lr', false) !== undefined ? { maxLr: number(args, 'max-lr', false) } : {}),
        });
        if (json) {
          printJson(io, result);
        } else {
          io.out(result.suggested === null ? 'No suggestion: the loss did not fall over the sweep.\n' : `Suggested learning rate: ${result.suggested.toPrecision(2)}\n`);
          io.err(`${result.curve.length} steps from ${result.curve[0]?.lr.toPrecision(2)} to ${result.curve.at(-1)?.lr.toPrecision(2)}${result.diverged ? ' (stopped: the loss blew up)' : ''}, ${Math.round(result.seconds)} s on ${result.backend}; not a run (record ${result.id}).\n`);
        }
        return 0;
      } finally {
        stop();
      }
    });
  },
};
