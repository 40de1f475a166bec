import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/model/index.js';
import { randomValues, startWasm } from './wasm-test-backend.js';

describe('training on wasm', () => {
  beforeAll(startWasm);

  it('a few SGD-momentum steps of alexnet-small reduce the loss on a fixed random batch, without leaking', () => {
    const model = buildModel('alexnet-small', { numClasses: 4, dropout: 0 });
    const x = tf.tensor(randomValues(16 * 32 * 32 * 3, 21), [16, 32, 32, 3]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], 'int32'), 4);
    const optimizer = tf.train.momentum(0.01, 0.9);
    const step = () => {
      // The model ends in softmax, so the loss is cross-entropy on probabilities.
      const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean(), true);
      const value = loss?.dataSync()[0] ?? NaN;
      loss?.dispose();
      return value;
    };
    const first = step();
    const tensors = tf.memory().numTensors;
    const buffers = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    let last = first;
    for (let i = 0; i < 6; i++) {
      last = step();
    }
    expect(last).toBeLessThan(first - 0.05);
    expect(tf.memory().numTensors).toBe(tensors);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(buffers);
  });
});
