// The learning-rate range test (Smith 2017): a short sweep of exponentially growing learning rates on a
// copy of the network held in memory, one SGD step each with the run's own update rule. It writes only its
// own record (lr_finds): no run, no epochs, no checkpoint.
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { ApiError } from '../api/errors.js';
import type { TrainConfig } from '../api/runs.js';
import { activateRunBackend } from '../evaluate/run-eval.js';
import { paperLighting } from '../images/augment.js';
import { createBatchLoader } from '../images/batch-loader.js';
import { hashSeed } from '../images/prng.js';
import { ARCHS, buildModel, type ArchName } from '../model/index.js';
import { inputSizeOf, normalizationFor } from '../runs/config.js';
import { colorStatsFor, ensurePack, snapshotDataset } from '../runs/dataset-snapshot.js';
import { keyedWeights, logitsOf } from '../train/loop.js';
import { PaperSgd } from '../train/sgd.js';

/** What to sweep: a full training config (its dataset, network, optimizer, augmentation) and the range. */
export interface LrFindRequest {
  config: TrainConfig;
  /** SGD steps in the sweep, one learning rate each. */
  steps: number;
  minLr: number;
  maxLr: number;
}

/** One step of the sweep. */
export interface LrPoint {
  lr: number;
  loss: number;
  /** Exponential moving average of the loss (β = 0.98, bias-corrected): what the suggestion reads. */
  smoothed: number;
}

/** A finished sweep as stored and returned. */
export interface LrFindResult {
  id: number;
  datasetId: number;
  arch: string;
  /** The rate to train with: a tenth of the rate at the smoothed loss's minimum; null when the loss never fell. */
  suggested: number | null;
  curve: LrPoint[];
  /** True when the sweep ended before maxLr because the loss blew up (over 4× its minimum, or not finite). */
  diverged: boolean;
  backend: string;
  seconds: number;
  createdAt: number;
}

/** Where a sweep stands. */
export interface LrFindProgress {
  step: number;
  steps: number;
  lr: number;
  loss: number | null;
  message: string;
}

const BETA = 0.98;

/** The learning rate of step `i` of `steps`, exponentially from minLr to maxLr. */
export function sweepRate(i: number, steps: number, minLr: number, maxLr: number): number {
  return minLr * Math.pow(maxLr / minLr, steps > 1 ? i / (steps - 1) : 0);
}

/**
 * The suggestion from a curve: a tenth of the learning rate where the smoothed loss is lowest (past the
 * first tenth of the sweep, where the average is still warming up), if the loss fell there at all.
 */
export function suggestRate(curve: LrPoint[]): number | null {
  if (curve.length < 5) {
    return null;
  }
  const skip = Math.max(1, Math.floor(curve.length / 10));
  let best = skip;
  for (let i = skip; i < curve.length; i++) {
    if (curve[i]!.smoothed < curve[best]!.smoothed) {
      best = i;
    }
  }
  return curve[best]!.smoothed < curve[skip]!.smoothed * 0.98 ? curve[best]!.lr / 10 : null;
}

/** Runs the sweep on the dataset's training split and stores it in lr_finds. Null when stopped. */
export async function findLearningRate(
  db: Database,
  libraryDir: string,
  request: LrFindRequest,
  hooks: { progress(p: LrFindProgress): void; shouldStop(): boolean },
): Promise<LrFindResult | null> {
  const started = performance.now();
  const { config, steps, minLr, maxLr } = request;
  if (!(minLr < maxLr)) {
    throw new ApiError('bad_request', `The sweep needs minLr below maxLr (got ${minLr} and ${maxLr}).`);
  }
  if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(config.datasetId)) {
    throw new ApiError('not_found', `There is no dataset ${config.datasetId}.`);
  }
  hooks.progress({ step: 0, steps, lr: minLr, loss: null, message: 'Preparing the training cache…' });
  const snapshot = snapshotDataset(db, config.datasetId);
  if (snapshot.classes.length < 2) {
    throw new ApiError('bad_request', `A classifier needs at least 2 classes; this dataset has ${snapshot.classes.length}.`);
  }
  const backend = await activateRunBackend(config);
  const inputSize = inputSizeOf(config);
  const pack = await ensurePack(path.join(libraryDir, 'cache'), config.datasetId, inputSize, snapshot.items, (done, total) =>
    hooks.progress({ step: 0, steps, lr: minLr, loss: null, message: `Decoding images for the training cache: ${done} / ${total}` }),
  );
  const train = snapshot.items.filter((it) => it.split === 'train' && !pack.failed.has(it.id));
  if (train.length === 0) {
    throw new ApiError('bad_request', 'The dataset has no images in its training split.');
  }
  const stats = colorStatsFor(pack.file, train.map((it) => it.id));
  const arch = config.arch as ArchName;
  const numClasses = snapshot.classes.length;
  const model = buildModel(arch, { numClasses, inputSize, lrn: config.lrn ?? ARCHS[arch].defaultLrn, dropout: config.dropout, init: config.init ?? ARCHS[arch].defaultInit, seed: config.seed });
  const sgd = new PaperSgd(keyedWeights(model), { momentum: config.momentum, weightDecay: config.weightDecay });
  const loader = await createBatchLoader({
    packFile: pack.file,
    inputSize,
    ...normalizationFor(config, stats),
    seed: config.seed,
    ids: train.map((it) => it.id),
    labels: train.map((it) => it.label),
    batchSize: Math.min(config.batchSize, train.length),
    train: true,
    augment: { crop: config.augment.crop, flip: config.augment.flip, pca: config.augment.pca ? paperLighting(stats, config.augment.pcaSigma) : null },
    epoch: 0,
    prefetch: 3,
  });
  const logits = logitsOf(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const curve: LrPoint[] = [];
  let average = 0;
  let lowest = Infinity;
  let diverged = false;
  try {
    let epoch = 0;
    for (let i = 0; i < steps; i++) {
      let batch = await loader.next();
      if (!batch) {
        loader.seek(++epoch, 0);
        batch = await loader.next();
      }
      const b = batch!;
      const lr = sweepRate(i, steps, minLr, maxLr);
      const lossValue = tf.tidy(() => {
        const x = tf.tensor4d(b.x, b.shape);
        const y = tf.oneHot(tf.tensor1d(b.labels, 'int32'), numClasses);
        const seed = hashSeed(config.seed, 'lr-find', i)[0];
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits(x, true, seed)) as tf.Scalar, vars);
        sgd.apply(grads, lr);
        return value;
      });
      const loss = (await lossValue.data())[0]!;
      lossValue.dispose();
      if (!Number.isFinite(loss)) {
        diverged = true;
        break;
      }
      average = BETA * average + (1 - BETA) * loss;
      const smoothed = average / (1 - Math.pow(BETA, i + 1));
      curve.push({ lr, loss, smoothed });
      lowest = Math.min(lowest, smoothed);
      hooks.progress({ step: i + 1, steps, lr, loss: smoothed, message: `Step ${i + 1} of ${steps} at learning rate ${lr.toPrecision(2)}` });
      await new Promise((resolve) => setImmediate(resolve));
      if (hooks.shouldStop()) {
        return null;
      }
      if (i > steps / 10 && smoothed > 4 * lowest) {
        diverged = true;
        break;
      }
    }
  } finally {
    await loader.close();
    sgd.dispose();
    model.dispose();
  }
  const suggested = suggestRate(curve);
  const seconds = (performance.now() - started) / 1000;
  const createdAt = Date.now();
  const id = Number(
    db
      .prepare('INSERT INTO lr_finds (dataset_id, arch, config, suggested, curve, backend, seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(config.datasetId, arch, JSON.stringify(config), suggested, JSON.stringify(curve), backend, seconds, createdAt).lastInsertRowid,
  );
  return { id, datasetId: config.datasetId, arch, suggested, curve, diverged, backend, seconds, createdAt };
}

/** The latest stored sweep of a dataset, or null. */
export function latestLrFind(db: Database, datasetId: number): LrFindResult | null {
  const r = db.prepare('SELECT * FROM lr_finds WHERE dataset_id = ? ORDER BY created_at DESC, id DESC LIMIT 1').get(datasetId) as
    | { id: number; dataset_id: number; arch: string; suggested: number | null; curve: string; backend: string; seconds: number; created_at: number }
    | undefined;
  if (!r) {
    return null;
  }
  const curve = JSON.parse(r.curve) as LrPoint[];
  return { id: r.id, datasetId: r.dataset_id, arch: r.arch, suggested: r.suggested, curve, diverged: false, backend: r.backend, seconds: r.seconds, createdAt: r.created_at };
}
