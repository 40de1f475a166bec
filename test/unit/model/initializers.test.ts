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
