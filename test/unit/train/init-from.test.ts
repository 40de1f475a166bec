// Fine-tuning's mechanics: which layers are copied, re-made and frozen, the per-layer learning rates in
// PaperSgd, and that a real training step leaves frozen weights exactly as they were.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TrainConfig } from '../../../src/api/runs.js';
import { activateBackend } from '../../../src/backends/index.js';
import { buildModel } from '../../../src/model/index.js';
import { lrMultipliers, startFromParent } from '../../../src/train/init-from.js';
import { keyedWeights, trainLoop, type LoopPosition } from '../../../src/train/loop.js';
import { MemoryBatchSource } from '../../helpers/memory-source.js';
import { initialSchedule } from '../../../src/train/schedule.js';
import { PaperSgd } from '../../../src/train/sgd.js';
import { syntheticBlobs } from '../../helpers/synthetic.js';

const config = (freeze: 'none' | 'features' | 'all-but-last', mult = 0.1) => TrainConfig.parse({ datasetId: 1, initFrom: { kind: 'run', id: 7 }, freeze, pretrainedLrMult: mult });
const values = (m: tf.LayersModel, layer: string): Float32Array[] => m.getLayer(layer).getWeights().map((w) => w.dataSync() as Float32Array);
const start: LoopPosition = { epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule({ lr: 0.01 }), best: { top1: null, top5: null } };

describe('PaperSgd learning-rate multipliers', () => {
  it('scales each weight\'s step by its multiplier and leaves a multiplier-0 weight (and its momentum) untouched', async () => {
    await activateBackend('cpu');
    const a = tf.variable(tf.tensor1d([1, 1]), true, 'a');
    const b = tf.variable(tf.tensor1d([1, 1]), true, 'b');
    const c = tf.variable(tf.tensor1d([1, 1]), true, 'c');
    const sgd = new PaperSgd(
      [
        { key: 'x/kernel', variable: a },
        { key: 'y/kernel', variable: b },
        { key: 'z/kernel', variable: c },
      ],
      { momentum: 0.9, weightDecay: 0, lrMult: { 'y/kernel': 0.1, 'z/kernel': 0 } },
    );
    const g = tf.tensor1d([1, -2]);
    sgd.apply({ a: g, b: g, c: g }, 0.5);
    expect(Array.from(a.dataSync())).toEqual([0.5, 2]);
    expect(Array.from(b.dataSync()).map((v) => +v.toFixed(6))).toEqual([0.95, 1.1]);
    expect(Array.from(c.dataSync())).toEqual([1, 1]);
    const state = await sgd.getState();
    expect(Array.from(state.momentum['z/kernel']!.values)).toEqual([0, 0]);
    expect(Array.from(state.momentum['y/kernel']!.values).map((v) => +v.toFixed(6))).toEqual([-0.05, 0.1]);
  });
});

describe('startFromParent', () => {
  it('copies the layers matching by name and shape, re-makes the last for the new classes, and sets the rates', async () => {
    await activateBackend('cpu');
    const parent = buildModel('alexnet-small', { numClasses: 5, inputSize: 32, seed: 1 });
    const child = buildModel('alexnet-small', { numClasses: 3, inputSize: 32, seed: 2 });
    const freshFc8 = values(child, 'fc8');
    const report = startFromParent(child, parent, config('none'));
    expect(report.copied).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7']);
    expect(report.reinitialised).toEqual([{ layer: 'fc8', reason: 'the last layer, sized to the 3 new classes' }]);
    expect(report.frozen).toEqual([]);
    expect(values(child, 'conv1')).toEqual(values(parent, 'conv1'));
    expect(values(child, 'fc7')).toEqual(values(parent, 'fc7'));
    expect(values(child, 'fc8')).toEqual(freshFc8);
    const mults = lrMultipliers(child, report);
    expect(mults['conv1/kernel']).toBe(0.1);
    expect(mults['fc7/bias']).toBe(0.1);
    expect(mults['fc8/kernel']).toBe(1);
  });

  it('leaves a layer of another shape fresh, with the reason, and refuses the fast head then', async () => {
    await activateBackend('cpu');
    const parent = buildModel('alexnet-small', { numClasses: 5, inputSize: 32, seed: 1 });
    const child = buildModel('alexnet-small', { numClasses: 3, inputSize: 48, seed: 2 });
    const report = startFromParent(child, parent, config('features'));
    const fc6 = report.reinitialised.find((r) => r.layer === 'fc6');
    expect(fc6?.reason).toMatch(/^the parent's is \d+×\d+, \d+, this run's \d+×\d+, \d+$/);
    expect(report.copied).toContain('conv5');
    expect(report.frozen).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5']);
    expect(child.getLayer('fc6').trainable).toBe(true);
    const other = buildModel('alexnet-small', { numClasses: 3, inputSize: 48, seed: 2 });
    expect(() => startFromParent(other, parent, config('all-but-last'))).toThrow(/needs every other layer from the parent, but fc6 \(the parent's is/);
  });

  it('a training step with the features frozen leaves every conv weight as the parent had it and trains fc6', async () => {
    await activateBackend('wasm');
    const parent = buildModel('alexnet-small', { numClasses: 4, inputSize: 32, seed: 1 });
    const child = buildModel('alexnet-small', { numClasses: 2, inputSize: 32, seed: 2, dropout: 0 });
    const report = startFromParent(child, parent, config('features'));
    expect(child.trainableWeights.map((w) => w.originalName)).toEqual(['fc6/kernel', 'fc6/bias', 'fc7/kernel', 'fc7/bias', 'fc8/kernel', 'fc8/bias']);
    const before = Object.fromEntries(['conv1', 'conv3', 'conv5', 'fc6'].map((l) => [l, values(child, l)]));
    const sgd = new PaperSgd(keyedWeights(child), { momentum: 0.9, weightDecay: 0.0005, lrMult: lrMultipliers(child, report) });
    const data = syntheticBlobs(16, 2, 32, 5);
    const { outcome } = await trainLoop({
      model: child,
      sgd,
      config: { epochs: 1, lr: 0.01, schedule: { kind: 'cosine', minLr: 0 }, timeLimitMinutes: null },
      numClasses: 2,
      train: new MemoryBatchSource(data.x, data.labels, 32, 16),
      val: null,
      start,
      hooks: { progress: () => undefined, epochEnd: async () => undefined, control: async () => 'continue', stopped: async () => undefined },
    });
    expect(outcome).toBe('completed');
    for (const layer of ['conv1', 'conv3', 'conv5']) {
      expect(values(child, layer)).toEqual(before[layer]);
    }
    expect(values(child, 'fc6')[0]).not.toEqual(before.fc6![0]);
    expect(values(child, 'conv1')).toEqual(values(parent, 'conv1'));
  });
});
