import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type * as tf from '@tensorflow/tfjs';
import { ApiError } from '../api/errors.js';
import type { PredictionSet } from '../api/results.js';
import type { RunEvaluation, TrainConfig } from '../api/runs.js';
import { activateBackend, chooseBackend } from '../backends/index.js';
import { createBatchLoader } from '../images/batch-loader.js';
import type { ColorStats } from '../images/color-stats.js';
import { loadCheckpoint, modelFromCheckpoint, type LoadedCheckpoint } from '../runs/checkpoint.js';
import { inputSizeOf, normalizationFor } from '../runs/config.js';
import { ensurePack, storedSnapshot } from '../runs/dataset-snapshot.js';
import { runRow } from '../runs/run-store.js';
import { evaluateSource, projectRows } from './evaluate.js';
import { FEATURE_LAYER, PROJECTED_DIM, projectionMatrix, writeFeatures } from './features.js';
import { confusionMatrix, perClassMetrics } from './metrics.js';
import { storePredictions } from './predictions-store.js';
import { configOfRun } from '../runs/run-config.js';
import { runDirOf } from '../runs/run-folder.js';

type Split = 'train' | 'val' | 'test';

/** Options of one prediction pass. */
export interface PredictOptions {
  tenCrop: boolean;
  /** Images done so far out of the split's total. */
  onProgress?: (done: number, total: number, split: Split) => void;
  /** Checked between batches; a stopped pass stores nothing. */
  shouldStop?: () => boolean;
  /** The checkpoint and its model when the caller holds them (several splits in a row); the caller disposes the model. */
  loaded?: { checkpoint: LoadedCheckpoint; model: tf.LayersModel };
}


/** A run's latest checkpoint, or an error a user can act on. */
export function requireCheckpoint(libraryDir: string, runId: number): LoadedCheckpoint {
  const checkpoint = loadCheckpoint(runDirOf(libraryDir, runId));
  if (!checkpoint) {
    throw new Error(`Run ${runId} has no checkpoint yet: it has not finished an epoch.`);
  }
  return checkpoint;
}

/** Activates the backend a run trained with (or the best available, when that was the native one). */
export async function activateRunBackend(config: TrainConfig): Promise<string> {
  const choice = await chooseBackend(config.backend === 'tensorflow' ? 'auto' : config.backend);
  return activateBackend(choice.name);
}

/**
 * One inference pass of a run's latest checkpoint over a split of its frozen snapshot: stores every
 * image's top-5 prediction in `predictions` (replacing the split's earlier ones) and the fc7 features in
 * `runs/<id>/features-<split>.f32`, and returns the evaluation. Null when `shouldStop` ended it early.
 */
export async function computePredictions(
  db: Database,
  libraryDir: string,
  runId: number,
  split: Split,
  options: PredictOptions,
): Promise<{ evaluation: RunEvaluation; set: PredictionSet } | null> {
  const { tenCrop } = options;
  const run = runRow(db, runId);
  const checkpoint = options.loaded?.checkpoint ?? requireCheckpoint(libraryDir, runId);
  const config = configOfRun(run);
  const classes = checkpoint.meta.classes;
  const snapshot = storedSnapshot(db, runId, classes);
  const items = snapshot.items.filter((it) => it.split === split);
  if (items.length === 0) {
    throw new ApiError('bad_request', `Run ${runId}'s data has no ${split} images, so there is nothing to evaluate on that split; choose another split.`);
  }
  const backend = await activateRunBackend(config);
  const inputSize = inputSizeOf(config);
  const pack = await ensurePack(path.join(libraryDir, 'cache'), run.dataset_id ?? 0, inputSize, snapshot.items, () => undefined);
  const usable = items.filter((it) => !pack.failed.has(it.id));
  const model: tf.LayersModel = options.loaded?.model ?? (await modelFromCheckpoint(checkpoint));
  const loader = await createBatchLoader({
    packFile: pack.file,
    ids: usable.map((it) => it.id),
    labels: usable.map((it) => it.label),
    batchSize: tenCrop ? 16 : 64,
    inputSize,
    train: false,
    ...normalizationFor(config, checkpoint.meta.colorStats as ColorStats),
    seed: config.seed,
    epoch: 0,
    evalViews: tenCrop ? 'ten-crop' : 'center',
  });
  try {
    let stopped = false;
    const result = await evaluateSource(model, loader, classes.length, {
      collect: true,
      featureLayer: FEATURE_LAYER,
      onBatch: (done) => options.onProgress?.(done, usable.length, split),
      shouldStop: () => (stopped = options.shouldStop?.() ?? false),
    });
    if (stopped && result.images < usable.length) {
      return null;
    }
    const confusion = confusionMatrix(result.probs!, result.labels!, classes.length);
    const perClass = perClassMetrics(confusion).map((m, i) => ({ class: classes[i]!, ...m }));
    const set: PredictionSet = {
      runId,
      split,
      tenCrop,
      images: result.images,
      loss: result.loss,
      top1Error: result.top1Error,
      top5Error: result.top5Error,
      featureDim: result.featureDim!,
      epoch: checkpoint.meta.position.epoch,
      backend,
      computedAt: Date.now(),
    };
    const dim = result.featureDim!;
    const projected = dim > PROJECTED_DIM ? projectRows(result.features!, dim, projectionMatrix(dim), PROJECTED_DIM) : undefined;
    // Rows first: a run deleted meanwhile fails here (foreign key) before its folder could be recreated.
    storePredictions(db, set, { ids: result.ids!, labels: result.labels!, probs: result.probs!, numClasses: classes.length });
    writeFeatures(runDirOf(libraryDir, runId), split, { ids: result.ids!, values: result.features!, dim }, projected);
    const evaluation: RunEvaluation = { runId, split, tenCrop, images: result.images, loss: result.loss, top1Error: result.top1Error, top5Error: result.top5Error, classes, perClass, confusion, backend };
    return { evaluation, set };
  } finally {
    await loader.close();
    if (!options.loaded) {
      model.dispose();
    }
  }
}

const SPLIT_WORDS: Record<Split, string> = { train: 'training', val: 'validation', test: 'test' };

/** The progress line of the prediction pass after training: what it is, not more training. */
export function predictingMessage(split: Split, done: number, total: number): string {
  return `Evaluating the trained model on the ${SPLIT_WORDS[split]} images: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`;
}

/**
 * After a run completes: predictions and features for every non-empty split (val and test for the
 * evaluation views, train for the neighbour search). Best-effort: a failure is reported, never thrown,
 * since the trained model itself is safe in its checkpoint.
 */
export async function predictAfterTraining(
  db: Database,
  libraryDir: string,
  runId: number,
  options: PredictOptions & { log: (level: 'info' | 'warn', message: string) => void },
): Promise<void> {
  const counts = db.prepare('SELECT split, COUNT(*) AS n FROM run_images WHERE run_id = ? GROUP BY split').all(runId) as Array<{ split: Split; n: number }>;
  const splits = (['val', 'test', 'train'] as const).filter((s) => counts.some((c) => c.split === s && c.n > 0));
  let loaded: PredictOptions['loaded'];
  try {
    // One checkpoint read and one model for every split (at 224 px a model is hundreds of MB).
    await activateRunBackend(configOfRun(runRow(db, runId)));
    const checkpoint = requireCheckpoint(libraryDir, runId);
    loaded = { checkpoint, model: await modelFromCheckpoint(checkpoint) };
  } catch (err) {
    options.log('warn', `Could not store predictions: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  try {
    for (const split of splits) {
      try {
        const done = await computePredictions(db, libraryDir, runId, split, { ...options, loaded });
        if (!done) {
          options.log('info', 'Stopped before all predictions were stored; runs.predict computes them on demand.');
          return;
        }
      } catch (err) {
        options.log('warn', `Could not store the ${split} predictions: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    loaded.model.dispose();
  }
}
