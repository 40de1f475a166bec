import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

const CASES = [
  { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
  { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [1, 64, 33], b: [1, 17, 33], transposeA: false, transposeB: true },
  { a: [3, 4, 6], b: [3, 5, 6], transposeA: false, transposeB: true },
  { a: [2, 6, 4], b: [2, 6, 5], transposeA: true, transposeB: false },
];

describe('wasm BatchMatMul matches cpu', () => {
  beforeAll(startWasm);

  it.each(CASES)('$a × $b (transposeA $transposeA, transposeB $transposeB)', async (c) => {
    const av = randomValues(c.a.reduce((x, y) => x * y), 51);
    const bv = randomValues(c.b.reduce((x, y) => x * y), 52);
    const { cpu, wasm } = await onCpuAndWasm(() => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.transposeA, c.transposeB));
    expect(relativeError(cpu, wasm)).toBeLessThan(1e-6);
  });

  it('dense-layer gradients (the transposed products) match cpu and free their intermediates', async () => {
    const xv = randomValues(8 * 20, 53);
    const wv = randomValues(20 * 6, 54);
    const grads = () => tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.sin(tf.matMul(x, w))))([tf.tensor(xv, [8, 20]), tf.tensor(wv, [20, 6])]);
    for (const arg of [0, 1]) {
      const { cpu, wasm } = await onCpuAndWasm(() => tf.tidy(() => grads()[arg] as tf.Tensor));
      expect(relativeError(cpu, wasm)).toBeLessThan(1e-6);
    }
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const before = backend.numDataIds();
    tf.tidy(() => {
      grads();
    });
    expect(backend.numDataIds()).toBe(before);
  });
});
