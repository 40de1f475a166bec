import type { DatasetDetail } from '../api/datasets.js';
import { parseSplitSpec } from '../datasets/split.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type CliIO, type Command } from './command.js';
import { datasetIdOf } from './train.js';

/** `convnet resplit DATASET`: carve a validation split out of train (test kept), or redraw train/val/test. */
export const resplitCommand: Command = {
  name: 'resplit',
  summary: "Carve a validation split out of a dataset's training images (test kept), or redraw train/val/test",
  usage: 'convnet resplit ID|NAME (--val-from-train PERCENT | --split 80/10/10) [--seed N] [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS, 'val-from-train': { type: 'string' }, split: { type: 'string' }, seed: { type: 'string' } },
  optionHelp: [
    ...LIBRARY_HELP,
    { flag: '--val-from-train PERCENT', text: "carve this share of each class's training images out as validation; the test split is kept (no default: give this or --split)" },
    { flag: '--split T/V/T', text: 'redraw train/val/test with these percentages, e.g. 80/10/10 (no default: give this or --val-from-train)' },
    { flag: '--seed N', text: "seed of the draw, so the same seed splits the same way (default: the dataset's seed)" },
  ],
  async run(args, io) {
    const ref = args.positionals[0];
    const carveText = args.values['val-from-train'];
    const splitText = args.values.split;
    if (args.positionals.length !== 1 || (carveText === undefined) === (splitText === undefined)) {
      throw new UsageError(`Name one dataset and either --val-from-train or --split.\nUsage: ${this.usage}`);
    }
    const seed = args.values.seed === undefined ? undefined : Number(args.values.seed);
    if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) {throw new UsageError(`--seed must be a non-negative integer, got "${String(args.values.seed)}".`);}
    let request: { train: number; val: number; test: number; keepTest: boolean };
    if (typeof carveText === 'string') {
      const percent = Number(carveText.replace(/%$/, ''));
      if (!Number.isFinite(percent) || percent <= 0 || percent > 50) {
        throw new UsageError(`--val-from-train must be a percentage above 0 and at most 50, got "${carveText}".`);
      }
      request = { train: 1 - percent / 100, val: percent / 100, test: 0, keepTest: true };
    } else {
      const fractions = parseSplitSpec(String(splitText));
      if (!fractions) {throw new UsageError(`--split must be three numbers adding up to 100 (or 1), e.g. 80/10/10; got "${String(splitText)}".`);}
      request = { ...fractions, keepTest: false };
    }
    return withStudio(args, io, async (studio) => {
      const id = await datasetIdOf(studio, ref!);
      const before = await studio.call('datasets.get', { id });
      const detail = await studio.call('datasets.resplit', { id, ...request, seed: seed ?? before.split.seed });
      if (args.values.json) {
        printJson(io, { id: detail.id, splits: detail.splits, split: detail.split, warnings: detail.warnings });
      } else {
        printResplit(io, detail);
      }
      return 0;
    });
  },
};

/** Describes how a dataset is split now: counts, where val came from, and what still needs attention. */
export function splitSentence(detail: DatasetDetail): string {
  const { train, val, test } = detail.splits;
  const how =
    detail.split.valFromTrain !== null
      ? ` — val carved from train (${Math.round(detail.split.valFromTrain * 1000) / 10} % of each class, seed ${detail.split.seed}); test as given`
      : detail.split.given
        ? ' — splits as given by the source'
        : ` — stratified ${pct(detail.split.train)}/${pct(detail.split.val)}/${pct(detail.split.test)}, seed ${detail.split.seed}`;
  return `train ${train}, val ${val}, test ${test}${how}`;
}

function pct(fraction: number): string {
  return String(Math.round(fraction * 1000) / 10);
}

function printResplit(io: CliIO, detail: DatasetDetail): void {
  io.out(`Dataset ${detail.id} "${detail.name}": ${splitSentence(detail)}\n`);
  for (const warning of detail.warnings) {io.out(`  ! ${warning}\n`);}
}
