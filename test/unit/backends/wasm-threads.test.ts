import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { enableWasmThreadsInNode } from '../../../src/backends/wasm-kernels/node-threads.js';
import { onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

describe('multi-threaded wasm under Node', () => {
  it('starts the threaded SIMD build with a real thread pool, and convolution training kernels agree with cpu', async () => {
    // tfjs uses logical cores / 2 threads at most; claim 4 cores so that a 2-core machine gets 2 threads.
    const cpus = os.cpus();
    os.cpus = () => Array.from({ length: Math.max(4, cpus.length) }, () => cpus[0] as os.CpuInfo);
    enableWasmThreadsInNode(2);
    await startWasm();
    expect(getThreadsCount()).toBe(2);
    const x = randomValues(4 * 12 * 12 * 8, 61);
    const w = randomValues(3 * 3 * 8 * 16, 62);
    const loss = (xt: tf.Tensor, wt: tf.Tensor) => tf.sum(tf.sin(tf.conv2d(xt as tf.Tensor4D, wt as tf.Tensor4D, 1, 'same')));
    for (const arg of [0, 1]) {
      const { cpu, wasm } = await onCpuAndWasm(() => tf.tidy(() => tf.grads(loss)([tf.tensor(x, [4, 12, 12, 8]), tf.tensor(w, [3, 3, 8, 16])])[arg] as tf.Tensor));
      expect(relativeError(cpu, wasm)).toBeLessThan(1e-5);
    }
  });

  it('leaves other blobs alone', async () => {
    const blob = new Blob(['hello']);
    expect(await blob.text()).toBe('hello');
    expect(URL.createObjectURL(blob)).toMatch(/^blob:/);
  });
});
