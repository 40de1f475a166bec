import path from 'node:path';
import type { ClassifiedImage, ClassifierSource, ClassifyError } from '../api/classify.js';
import { CSV_HEADER, csvErrorRow, csvRow, jsonLine } from '../classify/results-format.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, UsageError, withStudio, type Command } from './command.js';
import { passThreadsToWorkers, THREADS_HELP, THREADS_OPTION } from './threads-option.js';

/** `--run ID` or `--model ID|DIR` as a classifier source (a number names an imported model, anything else a folder). */
export function sourceFromFlags(run: unknown, model: unknown): ClassifierSource {
  if ((run === undefined) === (model === undefined)) {
    throw new UsageError('Pass exactly one of --run ID or --model ID|DIR.');
  }
  if (typeof run === 'string') {
    if (!/^\d+$/.test(run)) {
      throw new UsageError(`--run must be a run id, got "${run}".`);
    }
    return { runId: Number(run) };
  }
  const ref = String(model);
  return /^\d+$/.test(ref) ? { modelId: Number(ref) } : { modelDir: path.resolve(ref) };
}

function human(entry: ClassifiedImage | ClassifyError): string {
  if (!('predictions' in entry)) {
    return `${entry.path}\terror: ${entry.reason}\n`;
  }
  return `${entry.path}\t${entry.predictions.map((p) => `${p.label} ${(100 * p.probability).toFixed(1)}%`).join('  ')}\n`;
}

/**
 * `convnet classify`: top-k classes of image files and folders. `--json` prints one object per image and line
 * (`{"path","predictions":[{"label","probability"}]}` or `{"path","error"}`) as results arrive; `--csv` prints
 * `path,top1,confidence,top5,error` rows (results-format.ts: formula-like cells start with `'`, top-5 labels escape `\` and `|`). Files that cannot be classified are listed with their reason; the
 * exit code is 0 when the job ran to its end (whatever the bad files), 1 when it failed.
 */
export const classifyCommand: Command = {
  name: 'classify',
  summary: 'Classify image files and folders with a run or an exported model (top-k, optional ten-crop)',
  usage: 'convnet classify --run ID|--model ID|DIR PATH... [--library DIR] [--top K] [--ten-crop] [--threads N] [--json|--csv]',
  options: {
    ...LIBRARY_OPTIONS,
    run: { type: 'string' },
    model: { type: 'string' },
    top: { type: 'string', default: '5' },
    'ten-crop': { type: 'boolean', default: false },
    csv: { type: 'boolean', default: false },
    ...THREADS_OPTION,
  },
  optionHelp: [
    { flag: '--run ID', text: "classify with a run's model (see `convnet runs`)" },
    { flag: '--model ID|DIR', text: 'or with an imported model (see `convnet models`) or an exported folder' },
    ...LIBRARY_HELP,
    { flag: '--top K', text: 'how many classes to print per image (default: 5)' },
    { flag: '--ten-crop', text: "average the paper's ten patches per image, slower (default: centre crop)" },
    { flag: '--csv', text: 'print path,top1,confidence,top5,error rows (default: off)' },
    THREADS_HELP,
  ],
  async run(args, io) {
    const source = sourceFromFlags(args.values.run, args.values.model);
    if (args.positionals.length === 0) {
      throw new UsageError(`Name at least one image file or folder.\nUsage: ${this.usage}`);
    }
    const topK = Number(args.values.top);
    if (!Number.isInteger(topK) || topK < 1) {
      throw new UsageError(`--top must be a positive integer, got "${String(args.values.top)}".`);
    }
    const json = Boolean(args.values.json);
    const csv = Boolean(args.values.csv);
    if (json && csv) {
      throw new UsageError('Choose one of --json and --csv.');
    }
    const paths = args.positionals.map((p) => path.resolve(p));
    passThreadsToWorkers(args);
    return withStudio(args, io, async (studio) => {
      let jobId: string | null = null;
      const early: Array<{ jobId: string; entries: Array<ClassifiedImage | ClassifyError> }> = [];
      const print = (entries: Array<ClassifiedImage | ClassifyError>): void => {
        for (const e of entries) {
          io.out(json ? `${jsonLine(e)}\n` : csv ? `${'predictions' in e ? csvRow(e) : csvErrorRow(e)}\n` : human(e));
        }
      };
      // Results can arrive before classify.files answers (folders with bad files): hold them until the job id is known.
      const off = studio.events.on('classify.result', (r) => {
        const entries = [...r.items, ...r.errors];
        if (jobId === null) {
          early.push({ jobId: r.jobId, entries });
        } else if (r.jobId === jobId) {
          print(entries);
        }
      });
      try {
        if (csv) {
          io.out(`${CSV_HEADER}\n`);
        }
        const started = await studio.call('classify.files', { source, paths, topK, tenCrop: Boolean(args.values['ten-crop']) });
        jobId = started.jobId;
        early.filter((e) => e.jobId === jobId).forEach((e) => print(e.entries));
        const job = await studio.call('classify.job', { jobId, wait: true });
        if (job.status === 'failed') {
          io.err(`convnet classify: ${job.error ?? 'the job failed'}\n`);
          return 1;
        }
        if (!json && !csv) {
          const t = job.timing;
          io.err(
            `${job.results.length} classified, ${job.errors.length} failed${t ? ` in ${(t.totalMs / 1000).toFixed(2)} s (${t.msPerImage.toFixed(1)} ms per image` : ' ('}` +
              `${job.tenCrop ? ', ten-crop' : ''}, ${job.backend ?? 'no backend'}).\n`,
          );
        }
        return 0;
      } finally {
        off();
      }
    });
  },
};
