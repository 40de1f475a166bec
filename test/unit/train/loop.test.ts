import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { EpochMetrics } from '../../../src/api/runs.js';
import { activateBackend } from '../../../src/backends/index.js';
import { winogradCalls } from '../../../src/backends/wasm-kernels/winograd-conv.js';
import { buildModel } from '../../../src/model/index.js';
import { keyedWeights, trainLoop, type LoopPosition } from '../../../src/train/loop.js';
import { MemoryBatchSource } from '../../helpers/memory-source.js';
import { initialSchedule } from '../../../src/train/schedule.js';
import { PaperSgd } from '../../../src/train/sgd.js';
import { syntheticBlobs } from '../../helpers/synthetic.js';

const start = (lr: number): LoopPosition => ({ epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule({ lr }), best: { top1: null, top5: null } });

describe('trainLoop', () => {
  it('alexnet-small learns a 4-class synthetic task on wasm well above chance', async () => {
    await activateBackend('wasm');
    const classes = 4;
    const train = syntheticBlobs(256, classes, 32, 1);
    const val = syntheticBlobs(64, classes, 32, 2);
    const model = buildModel('alexnet-small', { numClasses: classes, inputSize: 32 });
    const sgd = new PaperSgd(keyedWeights(model), { momentum: 0.9, weightDecay: 0.0005 });
    const epochs: EpochMetrics[] = [];
    const before = tf.memory().numTensors;
    const kept = winogradCalls.keptFilters;
    const { outcome, position } = await trainLoop({
      model,
      sgd,
      config: { epochs: 4, lr: 0.01, schedule: { kind: 'plateau', patience: 2, factor: 0.1, minLr: 1e-6 }, timeLimitMinutes: null },
      numClasses: classes,
      train: new MemoryBatchSource(train.x, train.labels, 32, 32, 7),
      // Two validation batches: the second reuses the weights, so the Winograd convolutions keep their transforms.
      val: new MemoryBatchSource(val.x, val.labels, 32, 32),
      start: start(0.01),
      hooks: {
        progress: () => undefined,
        epochEnd: async (m) => {
          epochs.push(m);
        },
        control: async () => 'continue',
        stopped: async () => undefined,
      },
    });
    expect(outcome).toBe('completed');
    expect(epochs).toHaveLength(4);
    expect(position.epoch).toBe(4);
    expect(epochs[3]!.trainLoss).toBeLessThan(epochs[0]!.trainLoss);
    // chance is 75 % top-1 error
    expect(epochs[3]!.valTop1Error!).toBeLessThan(0.35);
    // no tensors leak per step (momentum buffers and weights are the only long-lived ones)
    expect(tf.memory().numTensors - before).toBeLessThan(10);
    // Transforms kept by an evaluation are freed at the next step (new weights): at most the last evaluation's.
    expect(winogradCalls.keptFilters - kept).toBeGreaterThan(0);
    expect(winogradCalls.keptFilters - kept).toBeLessThanOrEqual(5);
  });

  it('stops between batches when asked and reports the exact position', async () => {
    await activateBackend('wasm');
    const data = syntheticBlobs(64, 2, 32, 3);
    const model = buildModel('alexnet-small', { numClasses: 2, inputSize: 32 });
    let calls = 0;
    let saved: LoopPosition | null = null;
    const { outcome, position } = await trainLoop({
      model,
      sgd: new PaperSgd(keyedWeights(model), { momentum: 0.9, weightDecay: 0.0005 }),
      config: { epochs: 3, lr: 0.01, schedule: { kind: 'cosine', minLr: 0 }, timeLimitMinutes: null },
      numClasses: 2,
      train: new MemoryBatchSource(data.x, data.labels, 32, 16, 1),
      val: null,
      start: start(0.01),
      hooks: {
        progress: () => undefined,
        epochEnd: async () => undefined,
        control: async () => (++calls === 3 ? 'stop' : 'continue'),
        stopped: async (p) => {
          saved = p;
        },
      },
    });
    expect(outcome).toBe('stopped');
    expect(position).toMatchObject({ epoch: 0, batch: 3, images: 48 });
    expect(saved).toMatchObject({ epoch: 0, batch: 3 });
  });
});
