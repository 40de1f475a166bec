import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/model/index.js';

function stats(t: tf.Tensor): { mean: number; std: number; min: number; max: number } {
  const v = t.dataSync();
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of v) {
    sum += x;
    sq += x * x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / v.length;
  return { mean, std: Math.sqrt(sq / v.length - mean * mean), min, max };
}

describe('initialisation', () => {
  afterEach(() => tf.disposeVariables());

  it('a seed fixes the starting weights (per weight, for both schemes); no seed draws fresh ones', async () => {
    await tf.setBackend('cpu');
    const weights = (o: { init: 'paper' | 'he'; seed?: number }): number[][] =>
      buildModel('alexnet-small', { numClasses: 4, inputSize: 32, ...o }).getWeights().map((w) => Array.from(w.dataSync()));
    for (const init of ['paper', 'he'] as const) {
      const a = weights({ init, seed: 7 });
      expect(weights({ init, seed: 7 })).toEqual(a);
      expect(weights({ init, seed: 8 })[0]).not.toEqual(a[0]);
      expect(weights({ init })[0]).not.toEqual(weights({ init })[0]);
      // Two kernels of the same shape get different draws (conv3 and conv4 are 96 filters here, but differ in fan-in; fc layers too).
      const kernels = a.filter((_, i) => i % 2 === 0);
      expect(new Set(kernels.map((k) => k.slice(0, 8).join(','))).size).toBe(kernels.length);
    }
    // The scheme still holds: paper kernels N(0, 0.01).
    const model = buildModel('alexnet-small', { numClasses: 4, inputSize: 32, init: 'paper', seed: 3 });
    const k = stats(model.getLayer('conv2').getWeights()[0]!);
    expect(Math.abs(k.mean)).toBeLessThan(0.001);
    expect(k.std).toBeGreaterThan(0.009);
    expect(k.std).toBeLessThan(0.011);
  });

  it("paper init: weights N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere", async () => {
    await tf.setBackend('cpu');
    const model = buildModel('alexnet-2012', { numClasses: 10, init: 'paper', inputSize: 127 });
    const ones = new Set(['conv2', 'conv4', 'conv5', 'fc6', 'fc7']);
    for (const name of ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8']) {
      const [kernel, bias] = model.getLayer(name).getWeights();
      const k = stats(kernel!);
      expect(Math.abs(k.mean), name).toBeLessThan(1e-3);
      expect(k.std, name).toBeCloseTo(0.01, 3);
      const b = stats(bias!);
      expect([b.min, b.max], name).toEqual(ones.has(name) ? [1, 1] : [0, 0]);
    }
  });

  it('he init: kernel std ≈ sqrt(2 / fan-in), zero biases', async () => {
    await tf.setBackend('cpu');
    const model = buildModel('alexnet-small', { numClasses: 10, init: 'he' });
    const [kernel, bias] = model.getLayer('conv2').getWeights();
    const fanIn = 5 * 5 * 32;
    expect(stats(kernel!).std).toBeGreaterThan(0.8 * Math.sqrt(2 / fanIn));
    expect(stats(kernel!).std).toBeLessThan(1.1 * Math.sqrt(2 / fanIn));
    expect(stats(bias!).max).toBe(0);
  });
});
