// A fresh network of a run's config trained briefly on some of its images, with the run's own loop and
// loader (src/train/loop.ts, src/images/batch-loader.ts): what the suspects scan trains once per fold.
import type * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../api/runs.js';
import { paperLighting } from '../images/augment.js';
import { createBatchLoader } from '../images/batch-loader.js';
import type { ColorStats } from '../images/color-stats.js';
import { ARCHS, buildModel, type ArchName } from '../model/index.js';
import { normalizationFor } from '../runs/config.js';
import { keyedWeights, trainLoop, type LoopProgress } from '../train/loop.js';
import { initialSchedule } from '../train/schedule.js';
import { PaperSgd } from '../train/sgd.js';

/** What one short training needs: the packed cache, the images and labels, and how long. */
export interface ShortTrainOptions {
  config: TrainConfig;
  packFile: string;
  inputSize: number;
  numClasses: number;
  stats: ColorStats;
  ids: number[];
  labels: number[];
  epochs: number;
  /** Mixed into the run's seed so each fold starts from its own weights and data order. */
  seedOffset: number;
  progress(p: LoopProgress): void;
  /** Checked between batches; true ends the training early (the caller then throws away the model). */
  shouldStop(): boolean;
}

/** Trains a freshly initialised model of `config` for `epochs` on `ids` (augmented as the run was); the caller disposes it. Null when stopped. */
export async function shortTrain(o: ShortTrainOptions): Promise<tf.LayersModel | null> {
  const { config } = o;
  const arch = config.arch as ArchName;
  const seed = (config.seed + 7919 * (o.seedOffset + 1)) % 2 ** 31;
  const model = buildModel(arch, {
    numClasses: o.numClasses,
    inputSize: o.inputSize,
    lrn: config.lrn ?? ARCHS[arch].defaultLrn,
    dropout: config.dropout,
    init: config.init ?? ARCHS[arch].defaultInit,
    seed,
  });
  const sgd = new PaperSgd(keyedWeights(model), { momentum: config.momentum, weightDecay: config.weightDecay });
  const loader = await createBatchLoader({
    packFile: o.packFile,
    inputSize: o.inputSize,
    ...normalizationFor(config, o.stats),
    seed,
    ids: o.ids,
    labels: o.labels,
    batchSize: Math.min(config.batchSize, o.ids.length),
    train: true,
    augment: { crop: config.augment.crop, flip: config.augment.flip, pca: config.augment.pca ? paperLighting(o.stats, config.augment.pcaSigma) : null },
    epoch: 0,
    prefetch: 3,
  });
  const shortConfig = { ...config, epochs: o.epochs, timeLimitMinutes: null, seed };
  try {
    const { outcome } = await trainLoop({
      model,
      sgd,
      config: shortConfig,
      numClasses: o.numClasses,
      train: loader,
      val: null,
      start: { epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule(shortConfig), best: { top1: null, top5: null } },
      hooks: {
        progress: o.progress,
        epochEnd: async () => undefined,
        control: async () => (o.shouldStop() ? 'stop' : 'continue'),
        stopped: async () => undefined,
      },
    });
    if (outcome === 'stopped') {
      model.dispose();
      return null;
    }
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    sgd.dispose();
    await loader.close();
  }
}
