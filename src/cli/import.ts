import path from 'node:path';
import type { DatasetDetail, ImportFinished, ImportProgress } from '../api/datasets.js';
import { parseSplitSpec } from '../datasets/split.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type Command, type CliIO } from './command.js';

/** `convnet import DIR...`: index folders, image files or a CSV into a dataset, with live progress. */
export const importCommand: Command = {
  name: 'import',
  summary: 'Import image folders, files or a CSV/TSV of path,label[,split] as a dataset',
  usage: 'convnet import DIR|FILE|CSV... [--library DIR] [--name NAME] [--split 80/10/10] [--val-from-train PERCENT] [--seed N] [--json]',
  options: { ...LIBRARY_OPTIONS, name: { type: 'string' }, split: { type: 'string' }, seed: { type: 'string' }, 'val-from-train': { type: 'string' } },
  optionHelp: [
    ...LIBRARY_HELP,
    { flag: '--name NAME', text: "the dataset's name (default: the first folder's name)" },
    { flag: '--split T/V/T', text: 'train/val/test percentages for images not already in train/val/test folders (default: 80/10/10)' },
    { flag: '--val-from-train PERCENT', text: 'when the source gives train (and test) but no val: the share of each class\'s training images carved out as validation; 0 for none (default: 10)' },
    { flag: '--seed N', text: 'seed of the random split, so a re-import splits the same way (default: 0)' },
  ],
  async run(args, io) {
    if (args.positionals.length === 0) {throw new UsageError(`Name at least one folder, image file or CSV.\nUsage: ${this.usage}`);}
    const paths = args.positionals.map((p) => path.resolve(p));
    const fractions = typeof args.values.split === 'string' ? parseSplitSpec(args.values.split) : null;
    if (typeof args.values.split === 'string' && !fractions) {
      throw new UsageError(`--split must be three numbers adding up to 100 (or 1), e.g. 80/10/10; got "${args.values.split}".`);
    }
    const seed = args.values.seed === undefined ? 0 : Number(args.values.seed);
    if (!Number.isInteger(seed) || seed < 0) {throw new UsageError(`--seed must be a non-negative integer, got "${String(args.values.seed)}".`);}
    const split = fractions || args.values.seed !== undefined ? { ...(fractions ?? { train: 0.8, val: 0.1, test: 0.1 }), seed } : undefined;
    const name = typeof args.values.name === 'string' ? args.values.name : undefined;
    const carveText = args.values['val-from-train'];
    const carvePercent = carveText === undefined ? undefined : Number(String(carveText).replace(/%$/, ''));
    if (carvePercent !== undefined && (!Number.isFinite(carvePercent) || carvePercent < 0 || carvePercent > 50)) {
      throw new UsageError(`--val-from-train must be a percentage from 0 to 50 (0: carve none), got "${String(carveText)}".`);
    }
    const valFromTrain = carvePercent === undefined ? {} : { valFromTrain: carvePercent / 100 };

    return withStudio(args, io, async (studio) => {
      let jobId: string | null = null;
      const early: ImportFinished[] = [];
      let resolveEnd: (f: ImportFinished) => void = () => undefined;
      const end = new Promise<ImportFinished>((resolve) => (resolveEnd = resolve));
      const offEnd = studio.events.on('import.finished', (f) => (f.jobId === jobId ? resolveEnd(f) : early.push(f)));
      const showProgress = io.isTTY && !args.values.json;
      const offProgress = studio.events.on('import.progress', (p) => showProgress && io.err(`\r${progressLine(p)}\x1b[K`));
      const interrupt = (): void => {
        if (jobId) {void studio.call('datasets.cancelImport', { jobId });}
      };
      process.once('SIGINT', interrupt);
      try {
        jobId = (await studio.call('datasets.import', { paths, ...(name ? { name } : {}), ...(split ? { split } : {}), ...valFromTrain })).jobId;
        const finished = early.find((f) => f.jobId === jobId) ?? (await end);
        if (showProgress) {io.err('\r\x1b[K');}
        const code = report(finished, io, Boolean(args.values.json));
        if (finished.result && !args.values.json) {reportValidation(await studio.call('datasets.get', { id: finished.result.dataset.id }), io);}
        return code;
      } finally {
        process.off('SIGINT', interrupt);
        offEnd();
        offProgress();
      }
    });
  },
};

/** One status line: files seen / indexed / skipped, rate and ETA. */
export function progressLine(p: ImportProgress): string {
  const total = p.total === null ? '' : `/${p.total}`;
  const eta = p.etaSeconds === null ? '' : `, ETA ${formatSeconds(p.etaSeconds)}`;
  return `${p.phase}: ${p.seen}${total} seen, ${p.indexed} indexed, ${p.skipped} skipped (${p.duplicates} duplicates), ${p.ratePerSecond.toFixed(0)} files/s${eta}`;
}

function formatSeconds(s: number): string {
  return s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`;
}

/** Where the validation split came from when it was carved, and any warning that it is missing or too small. */
function reportValidation(detail: DatasetDetail, io: CliIO): void {
  if (detail.split.valFromTrain !== null) {
    io.out(`Validation: ${detail.splits.val} images carved out of train (${Math.round(detail.split.valFromTrain * 1000) / 10} % of each class, seed ${detail.split.seed}); the given test split is untouched. --val-from-train changes the share, 0 turns it off.\n`);
  }
  for (const warning of detail.warnings.filter((w) => /validation image/.test(w))) {io.out(`! ${warning}\n`);}
}

function report(finished: ImportFinished, io: CliIO, json: boolean): number {
  if (!finished.result) {
    const skipped = finished.error?.skipped ?? [];
    if (json) {
      printJson(io, { dataset: null, skipped, error: finished.error });
    } else {
      for (const s of skipped.slice(0, 50)) {io.err(`  skipped ${s.path}: ${s.reason}\n`);}
    }
    io.err(`convnet import: ${finished.error?.message ?? 'the import failed'}\n`);
    return finished.error?.code === 'cancelled' ? 130 : 1;
  }
  const { dataset, skipped } = finished.result;
  if (json) {
    printJson(io, finished.result);
    return 0;
  }
  io.out(`Imported "${dataset.name}" (dataset ${dataset.id}): ${dataset.images} images in ${dataset.classes.length} classes — train ${dataset.splits.train}, val ${dataset.splits.val}, test ${dataset.splits.test}\n`);
  const width = Math.max(5, ...dataset.classes.map((c) => c.name.length));
  for (const c of dataset.classes) {io.out(`  ${c.name.padEnd(width)}  ${c.count}\n`);}
  if (skipped.length > 0) {
    io.out(`Skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'}:\n`);
    for (const s of skipped.slice(0, 100)) {io.out(`  ${s.path}: ${s.reason}\n`);}
    if (skipped.length > 100) {io.out(`  … and ${skipped.length - 100} more (convnet import --json lists them all)\n`);}
  }
  return 0;
}
