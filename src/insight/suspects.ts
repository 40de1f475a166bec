// Suspected labels: every training image of a run scored by a model that never saw it (k-fold
// out-of-fold predictions), so a wrong label the run itself memorised still shows as a disagreement.
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import { ApiError } from '../api/errors.js';
import { createBatchLoader } from '../images/batch-loader.js';
import type { ColorStats } from '../images/color-stats.js';
import { Rng } from '../images/prng.js';
import { evaluateSource } from '../evaluate/evaluate.js';
import { predictionOf } from '../evaluate/predictions-store.js';
import { activateRunBackend } from '../evaluate/run-eval.js';
import { inputSizeOf, normalizationFor } from '../runs/config.js';
import { colorStatsFor, ensurePack, storedSnapshot, type SnapshotItem } from '../runs/dataset-snapshot.js';
import { runRow } from '../runs/run-store.js';
import { shortTrain } from './short-train.js';
import { storeSuspectScan, type SuspectRow, type SuspectScan } from './suspects-store.js';
import { configOfRun } from '../runs/run-config.js';

/** How a scan is made: folds and the epochs each fold's model trains. */
export interface SuspectScanOptions {
  folds: number;
  /** Epochs per fold; null: the run's own epochs, capped at DEFAULT_FOLD_EPOCHS. */
  epochs: number | null;
}

/** Epochs a fold trains when not told: short on purpose, a fold only has to beat chance clearly, not match the run. */
export const DEFAULT_FOLD_EPOCHS = 8;

/** Where a scan stands, for progress events. */
export interface SuspectProgress {
  fold: number;
  folds: number;
  phase: 'preparing' | 'training' | 'scoring';
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  message: string;
}

/** Splits items into k folds, stratified by label, in an order fixed by the seed. */
export function assignFolds(items: Array<Pick<SnapshotItem, 'id' | 'label'>>, folds: number, seed: number): number[] {
  const rng = Rng.fromSeed(seed, 'suspect-folds');
  const order = items.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const fold = new Array<number>(items.length).fill(0);
  const seen = new Map<number, number>();
  for (const i of order) {
    const n = seen.get(items[i]!.label) ?? 0;
    fold[i] = n % folds;
    seen.set(items[i]!.label, n + 1);
  }
  return fold;
}

/**
 * Trains `folds` fresh networks of the run's config, each on all training images but one fold, scores the
 * held-out fold with it (centre crop), and stores every training image's out-of-fold prediction. Null when stopped.
 */
export async function computeSuspects(
  db: Database,
  libraryDir: string,
  runId: number,
  options: SuspectScanOptions,
  hooks: { progress(p: SuspectProgress): void; shouldStop(): boolean },
): Promise<SuspectScan | null> {
  const started = performance.now();
  const run = runRow(db, runId);
  if (!run.snapshot_hash) {
    throw new ApiError('conflict', `Run ${runId} has not started yet, so it has no data to check.`);
  }
  const config = configOfRun(run);
  const classes = JSON.parse(run.classes) as string[];
  const folds = options.folds;
  const epochs = options.epochs ?? Math.min(config.epochs, DEFAULT_FOLD_EPOCHS);
  const say = (p: Omit<SuspectProgress, 'folds' | 'epochs'>): void => hooks.progress({ ...p, folds, epochs });
  say({ fold: 0, phase: 'preparing', epoch: 0, batch: 0, batches: 0, message: 'Preparing the training cache…' });
  const backend = await activateRunBackend(config);
  const snapshot = storedSnapshot(db, runId, classes);
  const inputSize = inputSizeOf(config);
  const pack = await ensurePack(path.join(libraryDir, 'cache'), run.dataset_id ?? 0, inputSize, snapshot.items, () => undefined);
  const train = snapshot.items.filter((it) => it.split === 'train' && !pack.failed.has(it.id));
  if (train.length < folds * 2) {
    throw new ApiError('bad_request', `Run ${runId} has ${train.length} training image(s): too few for ${folds} folds.`);
  }
  const stats = run.colour_stats ? (JSON.parse(run.colour_stats) as ColorStats) : colorStatsFor(pack.file, train.map((it) => it.id));
  const foldOf = assignFolds(train, folds, config.seed);
  const rows: SuspectRow[] = [];
  for (let f = 0; f < folds; f++) {
    const fit = train.filter((_, i) => foldOf[i] !== f);
    const held = train.filter((_, i) => foldOf[i] === f);
    const model = await shortTrain({
      config,
      packFile: pack.file,
      inputSize,
      numClasses: classes.length,
      stats,
      ids: fit.map((it) => it.id),
      labels: fit.map((it) => it.label),
      epochs,
      seedOffset: f,
      shouldStop: hooks.shouldStop,
      progress: (p) =>
        say({ fold: f + 1, phase: 'training', epoch: p.epoch, batch: p.batch, batches: p.batches, message: `Fold ${f + 1} of ${folds}: training on ${fit.length} images, epoch ${p.epoch} of ${epochs}` }),
    });
    if (!model) {
      return null;
    }
    say({ fold: f + 1, phase: 'scoring', epoch: epochs, batch: 0, batches: 0, message: `Fold ${f + 1} of ${folds}: scoring its ${held.length} held-out images` });
    const loader = await createBatchLoader({
      packFile: pack.file,
      ids: held.map((it) => it.id),
      labels: held.map((it) => it.label),
      batchSize: 64,
      inputSize,
      train: false,
      ...normalizationFor(config, stats),
      seed: config.seed,
      epoch: 0,
    });
    try {
      const out = await evaluateSource(model, loader, classes.length, { collect: true });
      const n = classes.length;
      for (let i = 0; i < out.images; i++) {
        const row = out.probs!.subarray(i * n, (i + 1) * n);
        const label = out.labels![i]!;
        const p = predictionOf(out.ids![i]!, label, row);
        rows.push({ imageId: p.imageId, fold: f, label, top1: p.top1, top1Prob: p.top1Prob, givenProb: row[label]!, score: 1 - row[label]!, top5: p.top5 });
      }
    } finally {
      await loader.close();
      model.dispose();
    }
    if (hooks.shouldStop()) {
      return null;
    }
  }
  const scan: SuspectScan = {
    runId,
    folds,
    epochs,
    images: rows.length,
    disagreements: rows.filter((r) => r.top1 !== r.label).length,
    seconds: (performance.now() - started) / 1000,
    backend,
    computedAt: Date.now(),
  };
  storeSuspectScan(db, scan, rows);
  return scan;
}
