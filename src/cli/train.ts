import type { EpochMetrics, RunSummary, TrainConfigInput } from '../api/runs.js';
import type { Studio } from '../studio.js';
import { DEFAULT_CONFIG } from '../runs/config.js';
import { LIBRARY_HELP, LIBRARY_OPTIONS, printJson, UsageError, withStudio, type CliIO, type Command, type ParsedArgs } from './command.js';
import { FINE_TUNE_HELP, fineTuneOptions } from './fine-tune-options.js';
import { FINE_TUNE_DEFAULTS } from '../train/fine-tune-config.js';
import { passThreadsToWorkers, THREADS_HELP, THREADS_OPTION, threadsOption } from './threads-option.js';

/** Resolves `--dataset ID|NAME` to a dataset id. */
export async function datasetIdOf(studio: Studio, ref: string): Promise<number> {
  const list = await studio.call('datasets.list');
  const byId = /^\d+$/.test(ref) ? list.find((d) => d.id === Number(ref)) : undefined;
  const byName = list.filter((d) => d.name === ref);
  if (byId) {
    return byId.id;
  }
  if (byName.length === 1) {
    return byName[0]!.id;
  }
  if (byName.length > 1) {
    throw new UsageError(`Several datasets are named "${ref}"; pass its id (see \`convnet datasets\`).`);
  }
  throw new UsageError(`No dataset "${ref}" in this library (see \`convnet datasets\`).`);
}

function num(args: ParsedArgs, name: string, integer: boolean): number | undefined {
  const raw = args.values[name];
  if (raw === undefined) {
    return undefined;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${String(raw)}".`);
  }
  return value;
}

function bar(fraction: number, width = 24): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

function percent(x: number | null): string {
  return x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`;
}

/** The run's result in words: best validation error, then the held-out test error (or why there is none). */
export function resultSentence(run: RunSummary): string {
  const val = `Best validation top-1 error ${percent(run.bestValTop1Error)}, top-5 ${percent(run.bestValTop5Error)}.`;
  const test =
    run.testTop1Error === null
      ? run.status === 'completed'
        ? 'No test result (the dataset has no test images).'
        : 'No test result (evaluated when a run completes).'
      : `Test top-1 error ${percent(run.testTop1Error)}, top-5 ${percent(run.testTop5Error)}.`;
  return `${val} ${test}`;
}

/** The run log's "Backend X (device): why" as one short line; the why stays in the run's log and `convnet info`. */
export function shortBackendLine(message: string): string {
  const m = /^(Run \d+): Backend (\S+) \(/.exec(message);
  const end = message.indexOf('): ');
  if (!m || end < 0) {
    return message;
  }
  return `${m[1]}: backend ${m[2]} on ${message.slice(m[0].length, end)} (\`convnet info\` says why)`;
}

/** Streams a run's epochs (JSON lines or a progress bar) until it finishes; SIGINT stops it cleanly. */
export async function followRun(studio: Studio, runId: number, io: CliIO, json: boolean): Promise<number> {
  const offEpoch = studio.events.on('train.epoch', (e) => {
    if (e.runId !== runId) {
      return;
    }
    const line: EpochMetrics = { epoch: e.epoch, trainLoss: e.trainLoss, valLoss: e.valLoss, valTop1Error: e.valTop1Error, valTop5Error: e.valTop5Error, lr: e.lr, imagesPerSecond: e.imagesPerSecond, seconds: e.seconds };
    if (json) {
      const { seconds: _s, ...rest } = line;
      printJson(io, rest);
    } else {
      const pct = (x: number | null): string => (x === null ? '  n/a' : `${(100 * x).toFixed(1)}%`);
      io.out(`${io.isTTY ? '\r\x1b[K' : ''}epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)}  val loss ${e.valLoss?.toFixed(4) ?? 'n/a'}  top-1 err ${pct(e.valTop1Error)}  top-5 err ${pct(e.valTop5Error)}  lr ${e.lr.toPrecision(3)}  ${e.imagesPerSecond.toFixed(1)} img/s\n`);
    }
  });
  const offProgress = studio.events.on('train.progress', (p) => {
    if (p.runId !== runId || json || !io.isTTY) {
      return;
    }
    const text =
      p.phase === 'preparing'
        ? p.message ?? 'Preparing…'
        : p.phase === 'predicting'
          ? `${bar(p.batch / Math.max(1, p.batches))} ${p.message ?? `predicting ${p.batch}/${p.batches}`}`
          : `epoch ${p.epoch}/${p.epochs} ${bar(p.batch / Math.max(1, p.batches))} ${p.batch}/${p.batches}  loss ${p.loss?.toFixed(4) ?? '…'}  ${p.imagesPerSecond?.toFixed(1) ?? '…'} img/s  ETA ${p.etaSeconds === null ? '…' : `${Math.round(p.etaSeconds)} s`}`;
    io.out(`\r\x1b[K${text}`);
  });
  const offLog = studio.events.on('app.log', (l) => {
    if (!json && l.message.startsWith(`Run ${runId}:`)) {
      io.err(`${io.isTTY ? '\r\x1b[K' : ''}${shortBackendLine(l.message)}\n`);
    }
  });
  // First Ctrl+C: stop after this batch with a checkpoint there. Second: end the worker now.
  let interrupts = 0;
  const stop = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err(`\nStopping after the current batch (a checkpoint is written there; \`convnet resume --run ${runId}\` continues). Ctrl+C again stops at once.\n`);
      void studio.call('runs.stop', { id: runId }).catch(() => undefined);
    } else if (interrupts === 2) {
      io.err(`\nStopping now, without waiting for the batch: the run is left interrupted, and \`convnet resume --run ${runId}\` continues from its last checkpoint.\n`);
      void studio.training.terminate(runId);
    }
  };
  process.on('SIGINT', stop);
  try {
    await studio.training.settled(runId);
  } finally {
    process.off('SIGINT', stop);
    offEpoch();
    offProgress();
    offLog();
  }
  const run = await studio.call('runs.get', { id: runId });
  if (json) {
    printJson(io, { run: { id: run.id, status: run.status, bestValTop1Error: run.bestValTop1Error, bestValTop5Error: run.bestValTop5Error, testTop1Error: run.testTop1Error, testTop5Error: run.testTop5Error, ...(run.error ? { error: run.error } : {}) } });
  } else {
    io.out(`${io.isTTY ? '\r\x1b[K' : ''}Run ${run.id} ${run.status}${run.error ? `: ${run.error.replace(/\.$/, '')}` : ''}. ${resultSentence(run)}\n`);
  }
  return run.status === 'completed' || run.status === 'stopped' ? 0 : 1;
}

/** `convnet train`: trains a run on a dataset with the paper's recipe, printing one line per epoch. */
export const trainCommand: Command = {
  name: 'train',
  summary: 'Train an AlexNet-family network on a dataset (the paper\'s recipe by default)',
  usage:
    'convnet train --dataset ID|NAME [--library DIR] [--arch alexnet-2012|alexnet|alexnet-small] [--image-size N] [--epochs N] [--batch-size N] [--lr X] [--schedule plateau|step|cosine] [--no-pca] [--backend auto|tensorflow|wasm|cpu] [--threads N] [--time-limit MINUTES] [--seed N] [--ten-crop] [--init-from run:ID|model:ID] [--freeze none|features|all-but-last] [--pretrained-lr-mult X] [--json]',
  options: {
    ...LIBRARY_OPTIONS,
    dataset: { type: 'string' },
    arch: { type: 'string' },
    'image-size': { type: 'string' },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    'no-pca': { type: 'boolean', default: false },
    backend: { type: 'string' },
    ...THREADS_OPTION,
    'time-limit': { type: 'string' },
    seed: { type: 'string' },
    'ten-crop': { type: 'boolean', default: false },
    'init-from': { type: 'string' },
    freeze: { type: 'string' },
    'pretrained-lr-mult': { type: 'string' },
  },
  optionHelp: [
    { flag: '--dataset ID|NAME', text: 'the dataset to train on (required; see `convnet datasets`)' },
    ...LIBRARY_HELP,
    { flag: '--arch NAME', text: `alexnet-2012 (the paper's two towers), alexnet (one tower) or alexnet-small (32–64 px images) (default: ${DEFAULT_CONFIG.arch})` },
    { flag: '--image-size N', text: "network input side in pixels (default: the architecture's, 224 for alexnet, 32 for alexnet-small)" },
    { flag: '--epochs N', text: `passes over the training images (default: ${DEFAULT_CONFIG.epochs})` },
    { flag: '--batch-size N', text: `images per SGD step (default: ${DEFAULT_CONFIG.batchSize}, the paper's)` },
    { flag: '--lr X', text: `initial learning rate (default: ${DEFAULT_CONFIG.lr})` },
    { flag: '--schedule KIND', text: `plateau (divide by 10 when validation error stops improving), step or cosine (default: ${DEFAULT_CONFIG.schedule.kind})` },
    { flag: '--no-pca', text: 'turn off PCA colour noise (default: on, σ 0.1)' },
    { flag: '--backend NAME', text: `auto, tensorflow, wasm or cpu; \`convnet info\` shows which load here (default: ${DEFAULT_CONFIG.backend})` },
    THREADS_HELP,
    { flag: '--time-limit MINUTES', text: 'stop cleanly after this many minutes of training, then evaluate and keep a checkpoint (default: no limit)' },
    { flag: '--seed N', text: `seed of weights, data order and augmentation; same seed, same numbers (default: ${DEFAULT_CONFIG.seed})` },
    { flag: '--ten-crop', text: "evaluate with the paper's ten-crop averaging, slower (default: centre crop)" },
    ...FINE_TUNE_HELP,
  ],
  async run(args, io) {
    if (typeof args.values.dataset !== 'string') {
      throw new UsageError(`--dataset is required.\nUsage: ${this.usage}`);
    }
    const dataset = args.values.dataset;
    return withStudio(args, io, async (studio) => {
      const config: TrainConfigInput = { datasetId: await datasetIdOf(studio, dataset) };
      const set = <K extends keyof TrainConfigInput>(key: K, value: TrainConfigInput[K] | undefined): void => {
        if (value !== undefined) {
          config[key] = value;
        }
      };
      set('arch', args.values.arch as TrainConfigInput['arch']);
      set('imageSize', num(args, 'image-size', true));
      set('epochs', num(args, 'epochs', true));
      set('batchSize', num(args, 'batch-size', true));
      set('lr', num(args, 'lr', false));
      set('backend', args.values.backend as TrainConfigInput['backend']);
      set('threads', threadsOption(args));
      set('timeLimitMinutes', num(args, 'time-limit', false));
      set('seed', num(args, 'seed', true));
      if (typeof args.values.schedule === 'string') {
        config.schedule = { kind: args.values.schedule } as TrainConfigInput['schedule'];
      }
      if (args.values['no-pca']) {
        config.augment = { pca: false };
      }
      if (args.values['ten-crop']) {
        config.tenCropEval = true;
      }
      Object.assign(config, fineTuneOptions(args));
      if (config.initFrom) {
        if (args.values.arch !== undefined) {
          throw new UsageError('--arch cannot be set with --init-from: the run has its parent\'s architecture.');
        }
        config.epochs ??= FINE_TUNE_DEFAULTS.epochs;
      }
      const { id } = await studio.call('runs.start', config);
      if (!args.values.json) {
        io.out(`Run ${id} started (library ${studio.library.dir}). Ctrl+C stops it with a checkpoint.\n`);
      }
      return followRun(studio, id, io, Boolean(args.values.json));
    });
  },
};

/** `convnet resume --run ID`: continues a stopped, interrupted or paused run from its checkpoint. */
export const resumeCommand: Command = {
  name: 'resume',
  summary: 'Resume a stopped or interrupted run from its last checkpoint',
  usage: 'convnet resume --run ID [--library DIR] [--json]',
  options: { ...LIBRARY_OPTIONS, run: { type: 'string' } },
  optionHelp: [{ flag: '--run ID', text: 'the run to continue (required; see `convnet runs`)' }, ...LIBRARY_HELP],
  async run(args, io) {
    const id = num(args, 'run', true);
    if (id === undefined) {
      throw new UsageError(`--run is required.\nUsage: ${this.usage}`);
    }
    return withStudio(args, io, async (studio) => {
      await studio.call('runs.resume', { id });
      return followRun(studio, id, io, Boolean(args.values.json));
    });
  },
};

/** `convnet eval --run ID`: top-1/top-5 error, per-class metrics and the confusion matrix on a split. */
export const evalCommand: Command = {
  name: 'eval',
  summary: "Evaluate a run on its validation or test split (top-1/top-5, per class, confusion)",
  usage: 'convnet eval --run ID [--library DIR] [--split val|test|train] [--ten-crop] [--threads N] [--json]',
  options: { ...LIBRARY_OPTIONS, run: { type: 'string' }, split: { type: 'string', default: 'val' }, 'ten-crop': { type: 'boolean', default: false }, ...THREADS_OPTION },
  optionHelp: [
    { flag: '--run ID', text: 'the run to evaluate (required; see `convnet runs`)' },
    ...LIBRARY_HELP,
    { flag: '--split NAME', text: 'val, test or train (default: val)' },
    { flag: '--ten-crop', text: "average the paper's ten patches per image, slower (default: centre crop)" },
    THREADS_HELP,
  ],
  async run(args, io) {
    const id = num(args, 'run', true);
    if (id === undefined) {
      throw new UsageError(`--run is required.\nUsage: ${this.usage}`);
    }
    passThreadsToWorkers(args);
    const split = String(args.values.split);
    if (!['train', 'val', 'test'].includes(split)) {
      throw new UsageError(`--split must be val, test or train, got "${split}".`);
    }
    return withStudio(args, io, async (studio) => {
      const r = await studio.call('runs.evaluate', { id, split: split as 'val', tenCrop: Boolean(args.values['ten-crop']) });
      if (args.values.json) {
        printJson(io, {
          images: r.images,
          top1Error: r.top1Error,
          top5Error: r.top5Error,
          perClass: r.perClass.map((c) => ({ class: c.class, precision: c.precision, recall: c.recall, support: c.support })),
          confusion: r.confusion,
        });
        return 0;
      }
      io.out(`Run ${id} on ${r.split} (${r.images} images${r.tenCrop ? ', ten-crop' : ''}, ${r.backend}): top-1 error ${(100 * r.top1Error).toFixed(2)}%, top-5 error ${(100 * r.top5Error).toFixed(2)}%\n\n`);
      const w = Math.max(5, ...r.classes.map((c) => c.length));
      io.out(`${'class'.padEnd(w)}  precision  recall   f1      support\n`);
      for (const c of r.perClass) {
        io.out(`${c.class.padEnd(w)}  ${c.precision.toFixed(3).padStart(9)}  ${c.recall.toFixed(3).padStart(6)}  ${c.f1.toFixed(3).padStart(6)}  ${String(c.support).padStart(7)}\n`);
      }
      return 0;
    });
  },
};
