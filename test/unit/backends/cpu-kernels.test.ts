// The cpu backend's project Conv2DBackpropFilter (a convolution of transposed tensors) against tfjs'
// own element-by-element kernel, on strides, paddings and shapes like the wasm kernel's tests.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCpuTrainingKernels, restoreCpuKernels } from '../../../src/backends/cpu-kernels.js';
import { randomValues, relativeError } from './wasm-test-backend.js';

type Pad = 'same' | 'valid' | number;
const CASES: Array<{ x: [number, number, number, number]; filter: [number, number, number, number]; strides: number | [number, number]; pad: Pad }> = [
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
  { x: [3, 8, 8, 5], filter: [5, 5, 5, 6], strides: 1, pad: 'same' },
  { x: [2, 6, 6, 4], filter: [1, 1, 4, 7], strides: 1, pad: 'valid' },
  { x: [2, 10, 11, 3], filter: [5, 5, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 13, 13, 3], filter: [3, 3, 3, 5], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 2], filter: [3, 2, 2, 3], strides: [1, 2], pad: 'same' },
  { x: [1, 27, 27, 3], filter: [11, 11, 3, 4], strides: 4, pad: 2 },
  { x: [2, 12, 12, 6], filter: [3, 3, 6, 8], strides: 3, pad: 'same' },
];

function filterGrad(c: (typeof CASES)[number], seed: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomValues(c.x.reduce((a, b) => a * b, 1), seed), c.x);
    const out = tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape;
    const dy = tf.tensor(randomValues(out.reduce((a, b) => a * b, 1), seed + 1), out);
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter }) as tf.Tensor;
    expect(dw.shape).toEqual(c.filter);
    return dw.dataSync() as Float32Array;
  });
}

describe('cpu Conv2DBackpropFilter (project kernel)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterAll(() => restoreCpuKernels());

  it.each(CASES)('matches tfjs: $x / $filter / $strides / $pad', (c) => {
    restoreCpuKernels();
    const want = filterGrad(c, 3);
    registerCpuTrainingKernels();
    const got = filterGrad(c, 3);
    expect(relativeError(want, got)).toBeLessThan(1e-5);
  });

  it('gives tf.grad of a convolution on cpu the same gradient', () => {
    registerCpuTrainingKernels();
    const w = tf.tensor4d(randomValues(5 * 5 * 3 * 4, 9), [5, 5, 3, 4]);
    const x = tf.tensor4d(randomValues(2 * 12 * 12 * 3, 8), [2, 12, 12, 3]);
    const loss = (f: tf.Tensor): tf.Scalar => tf.conv2d(x, f as tf.Tensor4D, 2, 'same').square().sum();
    const got = tf.grad(loss)(w).dataSync() as Float32Array;
    restoreCpuKernels();
    const want = tf.grad(loss)(w).dataSync() as Float32Array;
    expect(relativeError(want, got)).toBeLessThan(1e-5);
  });
});
