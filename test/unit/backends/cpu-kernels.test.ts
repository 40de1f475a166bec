// The cpu backend's project Conv2DBackpropFilter (a convolution of transposed tensors) against tfjs'
// own element-by-element kernel, on strides, paddings and shapes like the wasm kernel's tests.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCpuTrainingKernels, restoreCpuKernels } from '../../../src/backends/cpu-kernels.js';
import { CASES, type ConvCase } from './conv-cases.js';
import { randomValues, relativeError } from './wasm-test-backend.js';

function filterGrad(c: ConvCase, seed: number): Float32Array {
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
