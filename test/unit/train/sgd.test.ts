import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { PaperSgd } from '../../../src/train/sgd.js';

describe('PaperSgd', () => {
  it('follows the paper\'s rule: v ← 0.9v − 0.0005εw − εg; w ← w + v', async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const sgd = new PaperSgd([{ key: 'dense/kernel', variable: w }, { key: 'dense/bias', variable: b }], { momentum: 0.9, weightDecay: 0.0005 });
    const lr = 0.1;
    const g1 = { [w.name]: tf.tensor2d([[0.2, 0.4]]), [b.name]: tf.tensor1d([1]) };
    sgd.apply(g1, lr);
    // step 1: v = −0.0005·0.1·w − 0.1·g
    const v1 = [-0.0005 * 0.1 * 1 - 0.1 * 0.2, -0.0005 * 0.1 * -2 - 0.1 * 0.4];
    const w1 = [1 + v1[0]!, -2 + v1[1]!];
    expect(Array.from(w.dataSync())).toEqual(w1.map((x) => expect.closeTo(x, 6)));
    // biases are not decayed
    expect(b.dataSync()[0]).toBeCloseTo(0.5 - 0.1, 6);
    sgd.apply(g1, lr);
    const v2 = [0.9 * v1[0]! - 0.0005 * 0.1 * w1[0]! - 0.1 * 0.2, 0.9 * v1[1]! - 0.0005 * 0.1 * w1[1]! - 0.1 * 0.4];
    expect(Array.from(w.dataSync())).toEqual([w1[0]! + v2[0]!, w1[1]! + v2[1]!].map((x) => expect.closeTo(x, 6)));
  });

  it('round-trips its momentum through getState / setState', async () => {
    await tf.setBackend('cpu');
    const w = tf.variable(tf.ones([3]));
    const a = new PaperSgd([{ key: 'k/kernel', variable: w }], { momentum: 0.9, weightDecay: 0 });
    a.apply({ [w.name]: tf.ones([3]) }, 0.5);
    const state = await a.getState();
    const w2 = tf.variable(w.clone());
    const b = new PaperSgd([{ key: 'k/kernel', variable: w2 }], { momentum: 0.9, weightDecay: 0 });
    b.setState(state);
    expect(b.step).toBe(1);
    a.apply({ [w.name]: tf.ones([3]) }, 0.5);
    b.apply({ [w2.name]: tf.ones([3]) }, 0.5);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w.dataSync()));
  });

  it('refuses momentum from a different network', async () => {
    await tf.setBackend('cpu');
    const sgd = new PaperSgd([{ key: 'x/kernel', variable: tf.variable(tf.ones([2])) }], { momentum: 0.9, weightDecay: 0 });
    expect(() => sgd.setState({ step: 1, momentum: { 'x/kernel': { shape: [3], values: new Float32Array(3) } } })).toThrow(/shape/);
    expect(() => sgd.setState({ step: 1, momentum: {} })).toThrow(/another network/);
  });
});
