import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import type { WasmBackendLike } from '../../../src/backends/wasm-kernels/kernel-call.js';
import { enableWasmThreadsInNode } from '../../../src/backends/wasm-kernels/node-threads.js';
import { simdKernels } from '../../../src/backends/wasm-kernels/simd-module.js';
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
    // The project's SIMD module runs on the shared memory too: LRN, max-pool and bias gradients.
    expect(simdKernels(tf.backend() as unknown as WasmBackendLike)).not.toBeNull();
    const xs = randomValues(3 * 9 * 9 * 12, 63).map((v) => v * 20);
    const block = (xt: tf.Tensor) => tf.sum(tf.sin(tf.maxPool(tf.localResponseNormalization(tf.relu(xt) as tf.Tensor4D, 2, 2, 1e-3, 0.75), 3, 2, 'valid')));
    const { cpu, wasm } = await onCpuAndWasm(() => tf.tidy(() => tf.grad(block)(tf.tensor(xs, [3, 9, 9, 12]))));
    expect(relativeError(cpu, wasm)).toBeLessThan(1e-5);
    const sums = await onCpuAndWasm(() => tf.sum(tf.tensor(xs, [3, 9, 9, 12]), [0, 1, 2]));
    expect(relativeError(sums.cpu, sums.wasm)).toBeLessThan(1e-6);
  });

  it('leaves other blobs alone', async () => {
    const blob = new Blob(['hello']);
    expect(await blob.text()).toBe('hello');
    expect(URL.createObjectURL(blob)).toMatch(/^blob:/);
  });
});
