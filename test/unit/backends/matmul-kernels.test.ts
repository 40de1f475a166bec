import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

const CASES = [
  { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
  { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
  { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
  { a: [1, 64, 33], b: [1, 17, 33], transposeA: false, transposeB: true },
  // A small, B large (a dense layer's dy·Wᵀ): computed as (B·Aᵀ)ᵀ.
  { a: [2, 40], b: [50, 40], transposeA: false, transposeB: true },
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

  it.each([
    { a: [6, 9], b: [9, 4], transposeA: false, transposeB: false, activation: 'relu' as const },
    { a: [2, 30], b: [30, 40], transposeA: false, transposeB: false, activation: 'linear' as const },
    { a: [9, 6], b: [4, 9], transposeA: true, transposeB: true, activation: 'relu' as const },
    { a: [6, 9], b: [9, 4], transposeA: false, transposeB: false, activation: 'elu' as const },
  ])('fused matMul + bias + $activation: $a × $b (transposeA $transposeA, transposeB $transposeB)', async (c) => {
    const av = randomValues(c.a.reduce((x, y) => x * y), 55);
    const bv = randomValues(c.b.reduce((x, y) => x * y), 56);
    const n = c.transposeB ? (c.b[0] as number) : (c.b[1] as number);
    const biasv = randomValues(n, 57);
    const run = () => tf.fused.matMul({ a: tf.tensor(av, c.a), b: tf.tensor(bv, c.b), transposeA: c.transposeA, transposeB: c.transposeB, bias: tf.tensor(biasv), activation: c.activation });
    const { cpu, wasm } = await onCpuAndWasm(run);
    expect(relativeError(cpu, wasm)).toBeLessThan(1e-6);
  });

  it('a weight matrix used again (inference) gives the same product', () => {
    const a = tf.tensor(randomValues(3 * 50, 58), [3, 50]);
    const w = tf.tensor(randomValues(50 * 60, 59), [50, 60]);
    const first = tf.matMul(a, w).dataSync();
    const again = tf.matMul(a, w).dataSync();
    expect(relativeError(first as Float32Array, again as Float32Array)).toBe(0);
    tf.dispose([a, w]);
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
