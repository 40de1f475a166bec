import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { TrainConfig } from '../api/runs.js';
import { paperLighting } from '../images/augment.js';
import { createBatchLoader, type BatchLoader } from '../images/batch-loader.js';
import type { Batch, RawBatch } from '../images/batch-source.js';
import type { ColorStats } from '../images/color-stats.js';
import { inputSizeOf, normalizationFor, type InputNormalization } from '../runs/config.js';
import { colorStatsFor, ensurePack, saveSnapshot, snapshotDataset, storedSnapshot, type DatasetSnapshot, type SnapshotItem } from '../runs/dataset-snapshot.js';
import { recordUndecodable } from '../datasets/import-writer.js';
import { recordRunColourStats, recordRunSnapshot, type runRow } from '../runs/run-store.js';

/** Everything a run trains from, whichever backend trains it (a Node worker or a compute window). */
export interface RunData<B extends Batch | RawBatch = Batch> {
  snapshot: DatasetSnapshot;
  inputSize: number;
  train: SnapshotItem[];
  val: SnapshotItem[];
  stats: ColorStats;
  norm: InputNormalization;
  trainLoader: BatchLoader<B>;
  valLoader: BatchLoader<B> | null;
  /** Stops the loaders' workers. */
  close(): Promise<void>;
}

export interface PrepareRunDataOptions {
  /** Reuse the snapshot taken at the run's first start (resume); otherwise take a fresh one. */
  reuseSnapshot: boolean;
  /** Colour statistics saved in the checkpoint, so a resumed run normalises exactly as before. */
  savedStats?: ColorStats | undefined;
  /** Adjusts freshly computed statistics (a fine-tuned run normalises with its parent's mean and std). */
  adjustStats?: ((stats: ColorStats) => ColorStats) | undefined;
  /** Where the training stream continues (epoch, batch in epoch). */
  start: { epoch: number; batch: number };
  progress(message: string, done?: number, total?: number): void;
  log(level: 'info' | 'warn', message: string): void;
  /** float32: normalised batches for a Node trainer (default); uint8: raw views + lighting shifts for a compute window, which normalises on its side. */
  output?: 'float32' | 'uint8';
}

/**
 * The dataset snapshot (frozen at the run's first start), the packed cache (each image decoded once
 * per size), the colour statistics and the train/val batch loaders of a run.
 */
export async function prepareRunData<O extends PrepareRunDataOptions>(db: Database, libraryDir: string, run: ReturnType<typeof runRow>, config: TrainConfig, o: O): Promise<RunData<O['output'] extends 'uint8' ? RawBatch : Batch>> {
  type B = O['output'] extends 'uint8' ? RawBatch : Batch;
  let snapshot: DatasetSnapshot;
  if (o.reuseSnapshot && run.snapshot_hash) {
    snapshot = storedSnapshot(db, run.id, JSON.parse(run.classes) as string[]);
  } else {
    if (run.dataset_id === null) {
      throw new Error('The dataset of this run was deleted.');
    }
    snapshot = snapshotDataset(db, run.dataset_id);
    db.prepare('DELETE FROM run_images WHERE run_id = ?').run(run.id);
    saveSnapshot(db, run.id, snapshot);
    recordRunSnapshot(db, run.id, snapshot.classes, snapshot.hash);
  }
  if (snapshot.classes.length < 2) {
    throw new Error(`A classifier needs at least 2 classes; this dataset has ${snapshot.classes.length}.`);
  }
  const inputSize = inputSizeOf(config);
  o.progress(`Preparing the training cache at ${inputSize} px (each image is decoded once)…`);
  const pack = await ensurePack(path.join(libraryDir, 'cache'), run.dataset_id ?? 0, inputSize, snapshot.items, (done, total) =>
    o.progress(`Decoding images for the training cache: ${done} / ${total}`, done, total),
  );
  // Broken images found now are marked in the library (gallery, dataset warnings, skipped list), once.
  pack.undecodable.forEach((u) => recordUndecodable(db, u.id, u.message, 'training cache'));
  if (pack.failed.size) {
    const [firstId, firstReason] = [...pack.failed][0]!;
    o.log('warn', `${pack.failed.size} image(s) could not be decoded and are left out of this run (e.g. image ${firstId}: ${firstReason}).`);
  }
  const usable = snapshot.items.filter((it) => !pack.failed.has(it.id));
  const train = usable.filter((it) => it.split === 'train');
  const val = usable.filter((it) => it.split === 'val');
  if (train.length === 0) {
    throw new Error('The dataset has no images in its training split.');
  }
  if (val.length === 0) {
    o.log('warn', 'The dataset has no validation images: no validation error, and the plateau schedule cannot act.');
  }
  const stats = o.savedStats ?? (o.adjustStats ?? ((s: ColorStats) => s))(colorStatsFor(pack.file, train.map((it) => it.id)));
  recordRunColourStats(db, run.id, stats);
  const norm = normalizationFor(config, stats);

  const common = { packFile: pack.file, inputSize, ...norm, seed: config.seed, output: o.output ?? 'float32' };
  const trainLoader = (await createBatchLoader({
    ...common,
    ids: train.map((it) => it.id),
    labels: train.map((it) => it.label),
    batchSize: config.batchSize,
    train: true,
    augment: { crop: config.augment.crop, flip: config.augment.flip, pca: config.augment.pca ? paperLighting(stats, config.augment.pcaSigma) : null },
    epoch: o.start.epoch,
    startBatch: o.start.batch,
    prefetch: 3,
  })) as unknown as BatchLoader<B>;
  let valLoader: BatchLoader<B> | null = null;
  try {
    valLoader = val.length
      ? ((await createBatchLoader({
          ...common,
          ids: val.map((it) => it.id),
          labels: val.map((it) => it.label),
          batchSize: Math.max(config.batchSize, 64),
          train: false,
          epoch: 0,
          evalViews: config.tenCropEval ? 'ten-crop' : 'center',
        })) as unknown as BatchLoader<B>)
      : null;
  } catch (err) {
    await trainLoader.close();
    throw err;
  }
  return {
    snapshot,
    inputSize,
    train,
    val,
    stats,
    norm,
    trainLoader,
    valLoader,
    close: async () => {
      await Promise.all([trainLoader.close(), valLoader?.close()]);
    },
  };
}
