import { startInsightTask } from '../insight/insight-task.js';
import { suspectPage, suspectScan } from '../insight/suspects-store.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type Command } from './command.js';

/** A positive integer flag, or a usage error naming it. */
function intFlag(value: unknown, flag: string, usage: string, min: number, max: number): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${String(value)}".\nUsage: ${usage}`);
  }
  return n;
}

/**
 * `convnet suspects`: a run's training images whose label an out-of-fold model confidently disagrees with,
 * most suspect first. Scans (k folds trained briefly in a worker) when the run has no stored scan or with
 * --rescan; `--json` prints one array of `{imageId, path, label, predicted, score}` (score = 1 − p(label)).
 */
export const suspectsCommand: Command = {
  name: 'suspects',
  summary: 'Suspected labels: training images an out-of-fold model confidently disagrees with',
  usage: 'convnet suspects --run ID [--limit N] [--folds K] [--epochs E] [--rescan] [--library DIR] [--json]',
  optionHelp: [
    { flag: '--run ID', text: 'the run whose training images are checked (required)' },
    { flag: '--limit N', text: 'print at most N suspects (default: 50)' },
    { flag: '--folds K', text: 'folds of the scan: K networks, each trained on all but one fold (default: 3)' },
    { flag: '--epochs E', text: "epochs each fold's network trains (default: the run's epochs, at most 8)" },
    { flag: '--rescan', text: 'scan again even when a scan is stored (default: reuse it)' },
    ...LIBRARY_HELP,
  ],
  options: { ...LIBRARY_OPTIONS, run: { type: 'string' }, limit: { type: 'string' }, folds: { type: 'string' }, epochs: { type: 'string' }, rescan: { type: 'boolean', default: false } },
  async run(args, io) {
    const runId = intFlag(args.values.run, '--run', this.usage, 1, Number.MAX_SAFE_INTEGER);
    if (runId === undefined) {
      throw new UsageError(`--run ID is required.\nUsage: ${this.usage}`);
    }
    const limit = intFlag(args.values.limit, '--limit', this.usage, 1, 100_000) ?? 50;
    const folds = intFlag(args.values.folds, '--folds', this.usage, 2, 10) ?? 3;
    const epochs = intFlag(args.values.epochs, '--epochs', this.usage, 1, 200) ?? null;
    const json = Boolean(args.values.json);
    return withStudio(args, io, async (studio) => {
      await studio.call('runs.get', { id: runId });
      const { db } = studio.library;
      let scan = args.values.rescan ? null : suspectScan(db, runId);
      if (!scan) {
        let last = '';
        const job = startInsightTask(studio.library.dir, { kind: 'suspects', runId, folds, epochs }, (p) => {
          if (p.message !== last) {
            last = p.message;
            io.err(`${p.message}\n`);
          }
        });
        scan = await job.done;
        if (!scan) {
          io.err('Stopped; nothing was stored.\n');
          return 1;
        }
      }
      const page = suspectPage(db, runId, { offset: 0, limit });
      const items = page.items.map((it) => ({ imageId: it.id, path: it.path, label: it.trueClass, predicted: it.predictedClass, score: Math.round(it.score * 1e4) / 1e4 }));
      if (json) {
        printJson(io, items);
      } else {
        for (const it of items) {
          io.out(`${it.score.toFixed(3)}\t${it.label} → ${it.predicted}\t${it.path ?? `image ${it.imageId}`}\n`);
        }
        io.err(
          `${scan.disagreements} suspect(s) among ${scan.images} training images, ${items.length} shown; out-of-fold predictions of ${scan.folds} networks trained ${scan.epochs} epoch(s) each (${Math.round(scan.seconds)} s on ${scan.backend}).\n`,
        );
      }
      return 0;
    });
  },
};
