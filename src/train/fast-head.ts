// The fast head: with every layer but the last frozen, the backbone's features are computed once per image
// view (feature-cache.ts) and only the last layer trains, on those rows, in seconds. It keeps trainLoop's
// contract — the same hooks, positions, schedule, time limit and checkpoints — so a run cannot tell the two apart.
import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics } from '../api/runs.js';
import { topKHits } from '../evaluate/metrics.js';
import { Rng } from '../images/prng.js';
import { extractFeatures, gatherRows, type FeatureTable } from './feature-cache.js';
import type { LoopOptions, LoopOutcome, LoopPosition } from './loop.js';
import { nextTask } from './next-task.js';
import { nextSchedule } from './schedule.js';

/** Augmented views cached per training image when crops, flips or lighting are on (each a different draw). */
export const FAST_HEAD_VIEWS = 4;

export interface FastHeadOptions extends LoopOptions {
  /** Rows per SGD step. */
  batchSize: number;
  /** Passes over the training images whose features are cached (FAST_HEAD_VIEWS with augmentation, else 1). */
  views: number;
  /** Feature extraction's progress, in batches. */
  onExtract?(phase: 'train' | 'val', done: number, total: number): void;
  /**
   * Stores an epoch's metrics without a checkpoint. Epochs take well under a second and a checkpoint holds the
   * whole network (240 MB for AlexNet), so with this hook epochEnd (metrics and checkpoint) runs only every
   * `checkpointEverySeconds`, at a time limit and after the last epoch; a resume repeats at most those epochs.
   */
  recordEpoch?(metrics: EpochMetrics, position: LoopPosition): void;
  checkpointEverySeconds?: number;
}

/** Seconds spent extracting features and training the head, for the log and the bench. */
export interface FastHeadTimes {
  extractSeconds: number;
  trainSeconds: number;
}

/** The order of rows in an epoch: a permutation that follows from (seed, epoch). */
function epochOrder(rows: number, seed: number, epoch: number): Uint32Array {
  const order = new Uint32Array(rows);
  order.forEach((_, i) => (order[i] = i));
  const rng = Rng.fromSeed(seed, 'fast-head', epoch);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Loss and top-1/top-5 error of the head on cached rows (views of one image averaged as probabilities). */
export async function evaluateHead(kernel: tf.Variable, bias: tf.Variable, table: FeatureTable, numClasses: number): Promise<{ loss: number; top1Error: number; top5Error: number }> {
  const images = table.rows / table.views;
  const probs = tf.tidy(() => {
    const x = tf.tensor2d(table.values, [table.rows, table.dim]);
    const p = tf.softmax(tf.add(tf.matMul(x, kernel as tf.Tensor2D), bias));
    return table.views > 1 ? p.reshape([images, table.views, numClasses]).mean(1) : p;
  });
  const values = (await probs.data()) as Float32Array;
  probs.dispose();
  const labels = table.labels.filter((_, i) => i % table.views === 0);
  let loss = 0;
  labels.forEach((label, i) => (loss -= Math.log(Math.max(values[i * numClasses + label]!, 1e-12))));
  const hits = topKHits(values, labels, numClasses);
  return { loss: loss / images, top1Error: 1 - hits.top1 / images, top5Error: 1 - hits.top5 / images };
}

/** Trains the last layer on cached features from `start` until the configured epochs, a stop request or the time limit. */
export async function trainFastHead(o: FastHeadOptions): Promise<{ outcome: LoopOutcome; position: LoopPosition; times: FastHeadTimes }> {
  const now = o.now ?? (() => performance.now());
  const head = o.model.layers[o.model.layers.length - 1]!;
  const [kernel, bias] = head.trainableWeights.map((w) => w.read() as tf.Variable);
  if (!kernel || !bias || o.model.trainableWeights.length !== 2) {
    throw new Error('The fast head trains the last dense layer alone: every other layer must be frozen.');
  }
  const t0 = now();
  const train = await extractFeatures(o.model, o.train, o.views, (d, t) => o.onExtract?.('train', d, t));
  o.val?.seek?.(0, 0);
  const val = o.val ? await extractFeatures(o.model, o.val, 1, (d, t) => o.onExtract?.('val', d, t)) : null;
  const extractSeconds = (now() - t0) / 1000;

  const pos: LoopPosition = structuredClone(o.start);
  const limitMs = o.config.timeLimitMinutes ? o.config.timeLimitMinutes * 60_000 : Infinity;
  const sessionStart = now();
  const priorSeconds = pos.seconds;
  const batches = Math.ceil(train.rows / o.batchSize);
  const seed = o.config.seed ?? 1;
  let outcome: LoopOutcome = 'completed';
  let lastCheckpoint = now();
  while (pos.epoch < o.config.epochs) {
    const epochStart = now();
    const order = epochOrder(train.rows, seed, pos.epoch);
    let epochRows = 0;
    for (; pos.batch < batches; ) {
      const rows = order.subarray(pos.batch * o.batchSize, Math.min(train.rows, (pos.batch + 1) * o.batchSize));
      const { x, labels } = gatherRows(train, rows);
      const lossValue = tf.tidy(() => {
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), o.numClasses);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, kernel), bias)) as tf.Scalar, [kernel, bias]);
        o.sgd.apply(grads, pos.schedule.lr);
        return value;
      });
      x.dispose();
      const loss = (await lossValue.data())[0]!;
      lossValue.dispose();
      if (!Number.isFinite(loss)) {
        throw new Error(`The training loss became ${loss} at epoch ${pos.epoch + 1}: the learning rate (${pos.schedule.lr}) is probably too high.`);
      }
      pos.batch += 1;
      pos.lossSum += loss * rows.length;
      pos.images += rows.length;
      epochRows += rows.length;
      pos.seconds = priorSeconds + (now() - sessionStart) / 1000;
      await nextTask();
      if ((await o.hooks.control()) === 'stop') {
        await o.hooks.stopped(structuredClone(pos));
        return { outcome: 'stopped', position: pos, times: { extractSeconds, trainSeconds: (now() - sessionStart) / 1000 } };
      }
      if (pos.seconds * 1000 >= limitMs) {
        break;
      }
    }
    const timeUp = pos.seconds * 1000 >= limitMs;
    const trainSeconds = (now() - epochStart) / 1000;
    const v = val ? await evaluateHead(kernel, bias, val, o.numClasses) : null;
    const metrics: EpochMetrics = {
      epoch: pos.epoch + 1,
      trainLoss: pos.images ? pos.lossSum / pos.images : NaN,
      valLoss: v ? v.loss : null,
      valTop1Error: v ? v.top1Error : null,
      valTop5Error: v ? v.top5Error : null,
      lr: pos.schedule.lr,
      imagesPerSecond: epochRows / Math.max(1e-3, trainSeconds),
      seconds: trainSeconds,
    };
    o.hooks.progress({ phase: 'training', epoch: pos.epoch + 1, batch: pos.batch, batches, loss: metrics.trainLoss, imagesPerSecond: metrics.imagesPerSecond, etaSeconds: null, lr: pos.schedule.lr });
    if (v && (pos.best.top1 === null || v.top1Error < pos.best.top1)) {
      pos.best = { top1: v.top1Error, top5: v.top5Error };
    }
    pos.epoch += 1;
    pos.batch = 0;
    pos.lossSum = 0;
    pos.images = 0;
    pos.schedule = nextSchedule(o.config, pos.schedule, pos.epoch, v ? v.top1Error : null);
    const due = !o.recordEpoch || timeUp || pos.epoch >= o.config.epochs || now() - lastCheckpoint >= (o.checkpointEverySeconds ?? 60) * 1000;
    if (due) {
      await o.hooks.epochEnd(metrics, structuredClone(pos));
      lastCheckpoint = now();
    } else {
      o.recordEpoch!(metrics, structuredClone(pos));
    }
    if (timeUp) {
      outcome = 'time-limit';
      break;
    }
  }
  return { outcome, position: pos, times: { extractSeconds, trainSeconds: (now() - sessionStart) / 1000 } };
}
