// The training loop. It depends only on tfjs and a BatchSource, never on Node APIs, so the same loop
// runs in a Node worker (tensorflow / wasm / cpu) and in a browser compute window (webgpu / webgl).
import * as tf from '@tensorflow/tfjs';
import { hashSeed } from '../images/prng.js';
import type { EpochMetrics, TrainConfig, TrainProgress } from '../api/runs.js';
import { evaluateSource } from '../evaluate/evaluate.js';
import type { BatchSource } from '../images/batch-source.js';
import { forwardOf } from '../model/forward.js';
import { nextTask } from './next-task.js';
import { initialSchedule, nextSchedule } from './schedule.js';
import type { PaperSgd } from './sgd.js';

import type { LoopPosition } from '../runs/training-state.js';
export type { LoopPosition };

/** Where a run that has no checkpoint starts: nothing done, the schedule at the config's rate. */
export function initialPosition(config: Pick<TrainConfig, 'lr'>): LoopPosition {
  return { epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule(config), best: { top1: null, top5: null } };
}

/** The contract's TrainProgress as the loop knows it: its own two phases, without the run's id, epoch count or message. */
export type LoopProgress = Omit<TrainProgress, 'runId' | 'epochs' | 'message' | 'phase'> & { phase: Extract<TrainProgress['phase'], 'training' | 'evaluating'> };

export interface LoopHooks {
  /** Called at most every `progressEveryMs`. */
  progress(p: LoopProgress): void;
  /** Called after each epoch's evaluation: persist metrics and checkpoint there. */
  epochEnd(metrics: EpochMetrics, position: LoopPosition): Promise<void>;
  /** Called between batches; resolves when the run may go on ('continue') or must stop ('stop'). Waits while paused. */
  control(): Promise<'continue' | 'stop'>;
  /** Called when the loop stops mid-epoch, to checkpoint that exact position. */
  stopped(position: LoopPosition): Promise<void>;
}

export interface LoopOptions {
  model: tf.LayersModel;
  sgd: PaperSgd;
  /** With `seed`, every step's dropout masks follow from (seed, epoch, batch): a repeated or resumed run draws the same ones. */
  config: Pick<TrainConfig, 'epochs' | 'lr' | 'schedule' | 'timeLimitMinutes'> & { seed?: number };
  numClasses: number;
  train: BatchSource;
  /** Validation batches; null when the dataset has no validation split. */
  val: BatchSource | null;
  start: LoopPosition;
  hooks: LoopHooks;
  progressEveryMs?: number;
  /** Monotonic clock in ms (performance.now in both Node and browsers). */
  now?: () => number;
}

export type LoopOutcome = 'completed' | 'stopped' | 'time-limit';

/** A function computing logits from the trunk of the network and fc8's own weights (stable softmax cross-entropy). */
export function logitsOf(model: tf.LayersModel): (x: tf.Tensor4D, training: boolean, seed?: number) => tf.Tensor2D {
  const head = model.layers[model.layers.length - 1]!;
  // The trunk as plain ops on the layers' weights (fused conv + bias + ReLU, no layers-API overhead).
  const trunk = forwardOf(model.layers.slice(0, -1));
  const [kernel, bias] = head.trainableWeights;
  if (!kernel || !bias) {
    throw new Error('The last layer of the network must be a dense layer with a bias.');
  }
  return (x, training, seed) =>
    tf.tidy(() => {
      const h = trunk(x, training, seed) as tf.Tensor2D;
      return tf.add(tf.matMul(h, kernel.read() as tf.Tensor2D), bias.read()) as tf.Tensor2D;
    });
}

/** The network's trainable weights with keys stable across processes (`conv1/kernel`), for the optimizer. */
export function keyedWeights(model: tf.LayersModel): Array<{ key: string; variable: tf.Variable }> {
  return model.trainableWeights.map((w) => ({ key: w.originalName, variable: w.read() as tf.Variable }));
}

/** Trains from `start` until the configured epochs, a stop request or the time limit. */
export async function trainLoop(o: LoopOptions): Promise<{ outcome: LoopOutcome; position: LoopPosition }> {
  const now = o.now ?? (() => performance.now());
  const everyMs = o.progressEveryMs ?? 250;
  const logits = logitsOf(o.model);
  const vars = o.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const pos: LoopPosition = structuredClone(o.start);
  const limitMs = o.config.timeLimitMinutes ? o.config.timeLimitMinutes * 60_000 : Infinity;
  const sessionStart = now();
  const priorSeconds = pos.seconds;
  let lastProgress = -Infinity;

  o.train.seek?.(pos.epoch, pos.batch);
  while (pos.epoch < o.config.epochs) {
    const epochStart = now();
    let epochImages = 0;
    const batches = o.train.batchesPerEpoch;
    for (let batch = await o.train.next(); batch; batch = await o.train.next()) {
      const n = batch.labels.length;
      const lossValue = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, batch.shape);
        const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), o.numClasses);
        const seed = o.config.seed === undefined ? undefined : hashSeed(o.config.seed, 'dropout', batch.epoch ?? pos.epoch, batch.index ?? pos.batch)[0];
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits(x, true, seed)) as tf.Scalar, vars);
        o.sgd.apply(grads, pos.schedule.lr);
        return value;
      });
      const loss = (await lossValue.data())[0]!;
      lossValue.dispose();
      if (!Number.isFinite(loss)) {
        throw new Error(`The training loss became ${loss} at epoch ${pos.epoch + 1}: the learning rate (${pos.schedule.lr}) is probably too high.`);
      }
      pos.batch += 1;
      pos.lossSum += loss * n;
      pos.images += n;
      epochImages += n;
      const t = now();
      pos.seconds = priorSeconds + (t - sessionStart) / 1000;
      if (t - lastProgress >= everyMs) {
        lastProgress = t;
        const rate = epochImages / Math.max(1e-3, (t - epochStart) / 1000);
        const batchesLeft = (o.config.epochs - pos.epoch - 1) * batches + (batches - pos.batch);
        o.hooks.progress({
          phase: 'training',
          epoch: pos.epoch + 1,
          batch: pos.batch,
          batches,
          loss: pos.lossSum / pos.images,
          imagesPerSecond: rate,
          etaSeconds: rate > 0 ? (batchesLeft * (pos.images / pos.batch)) / rate : null,
          lr: pos.schedule.lr,
        });
      }
      // Every await above may resolve as a microtask: give the event loop a turn, or a pause or stop
      // message posted to this worker (or compute page) would wait for the end of the run.
      await nextTask();
      if ((await o.hooks.control()) === 'stop') {
        await o.hooks.stopped(structuredClone(pos));
        return { outcome: 'stopped', position: pos };
      }
      if (pos.seconds * 1000 >= limitMs) {
        break;
      }
    }
    const timeUp = pos.seconds * 1000 >= limitMs;
    const trainSeconds = (now() - epochStart) / 1000;

    o.hooks.progress({ phase: 'evaluating', epoch: pos.epoch + 1, batch: pos.batch, batches, loss: pos.images ? pos.lossSum / pos.images : null, imagesPerSecond: null, etaSeconds: null, lr: pos.schedule.lr });
    o.val?.seek?.(0, 0);
    const val = o.val ? await evaluateSource(o.model, o.val, o.numClasses) : null;
    const metrics: EpochMetrics = {
      epoch: pos.epoch + 1,
      trainLoss: pos.images ? pos.lossSum / pos.images : NaN,
      valLoss: val ? val.loss : null,
      valTop1Error: val ? val.top1Error : null,
      valTop5Error: val ? val.top5Error : null,
      lr: pos.schedule.lr,
      imagesPerSecond: epochImages / Math.max(1e-3, trainSeconds),
      seconds: trainSeconds,
    };
    if (val && (pos.best.top1 === null || val.top1Error < pos.best.top1)) {
      pos.best = { top1: val.top1Error, top5: val.top5Error };
    }
    pos.epoch += 1;
    pos.batch = 0;
    pos.lossSum = 0;
    pos.images = 0;
    pos.schedule = nextSchedule(o.config, pos.schedule, pos.epoch, val ? val.top1Error : null);
    await o.hooks.epochEnd(metrics, structuredClone(pos));
    if (timeUp) {
      return { outcome: 'time-limit', position: pos };
    }
    if (pos.epoch < o.config.epochs) {
      o.train.seek?.(pos.epoch, 0);
    }
  }
  return { outcome: 'completed', position: pos };
}
