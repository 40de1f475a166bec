import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkLrnAgainstCpu, onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface PoolCase {
  x: [number, number, number, number];
  pool: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid';
}

// Overlapping (3/2, the paper's), non-overlapping, 'same' padding, rectangular windows.
const POOLS: PoolCase[] = [
  { x: [2, 15, 15, 5], pool: 3, strides: 2, pad: 'valid' },
  { x: [2, 13, 11, 3], pool: 3, strides: 2, pad: 'same' },
  { x: [1, 8, 8, 4], pool: 2, strides: 2, pad: 'valid' },
  { x: [2, 9, 10, 2], pool: [3, 2], strides: [1, 2], pad: 'same' },
  { x: [3, 7, 7, 6], pool: 3, strides: 1, pad: 'valid' },
];

interface LrnCase {
  x: [number, number, number, number];
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

const LRNS: LrnCase[] = [
  { x: [2, 5, 5, 16], depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 },
  { x: [1, 3, 4, 7], depthRadius: 3, bias: 1, alpha: 0.01, beta: 0.5 },
  { x: [2, 2, 3, 3], depthRadius: 5, bias: 0.5, alpha: 0.05, beta: 1.3 },
];

describe('wasm pooling and LRN kernels match cpu', () => {
  beforeAll(startWasm);

  it.each([...POOLS.map((c) => ({ ...c, ties: false })), ...POOLS.map((c) => ({ ...c, ties: true }))])('MaxPool forward and MaxPoolGrad: $x / pool $pool / stride $strides / $pad / ties $ties', async (c) => {
    // Values of both signs: windows that are entirely negative must route their gradient too. With ties
    // (values rounded to three levels), the gradient goes to the window's first maximum, as on cpu.
    const xv = randomValues(size(c.x), 31).map((v) => (c.ties ? Math.round(v) : v));
    const forward = await onCpuAndWasm(() => tf.maxPool(tf.tensor(xv, c.x) as tf.Tensor4D, c.pool, c.strides, c.pad));
    expect(relativeError(forward.cpu, forward.wasm)).toBe(0);
    const dyv = randomValues(size(forward.shape), 32);
    const { cpu, wasm } = await onCpuAndWasm(() =>
      tf.tidy(() => {
        const x = tf.tensor(xv, c.x) as tf.Tensor4D;
        const y = tf.maxPool(x, c.pool, c.strides, c.pad);
        return tf.engine().runKernel('MaxPoolGrad', { dy: tf.tensor(dyv, forward.shape), input: x, output: y }, {
          filterSize: c.pool,
          strides: c.strides,
          pad: c.pad,
        }) as tf.Tensor;
      }),
    );
    expect(relativeError(cpu, wasm)).toBeLessThan(1e-6);
  });

  it.each(LRNS)('LRN and LRNGrad: $x / radius $depthRadius / k $bias / α $alpha / β $beta', async (c) => {
    const err = await checkLrnAgainstCpu(c.x, c, 20, 41);
    expect(err.forward).toBeLessThan(1e-5);
    expect(err.gradient).toBeLessThan(1e-5);
  });
});
