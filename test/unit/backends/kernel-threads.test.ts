import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmBackendLike } from '../../../src/backends/wasm-kernels/kernel-call.js';
import { enableWasmThreadsInNode, withCoresForThreads } from '../../../src/backends/wasm-kernels/node-threads.js';
import { kernelThreadCount, setKernelThreads, setSimdKernelsEnabled } from '../../../src/backends/wasm-kernels/simd-module.js';
import { winogradCalls } from '../../../src/backends/wasm-kernels/winograd-conv.js';
import { LRN_TRAIN_GRAD_KERNEL, LRN_TRAIN_KERNEL, PAPER_SGD_KERNEL, RELU_BIAS_GRAD_KERNEL } from '../../../src/backends/custom-kernels.js';
import { randomValues, relativeError, startWasm } from './wasm-test-backend.js';

type Shape4 = [number, number, number, number];
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Batches that split evenly and unevenly over 2 and 3 threads, fewer images than threads, 3×3 and 5×5.
const CASES: Array<{ x: Shape4; filter: Shape4 }> = [
  { x: [16, 7, 7, 32], filter: [3, 3, 32, 48] },
  { x: [5, 12, 12, 32], filter: [5, 5, 32, 32] },
  { x: [2, 8, 8, 32], filter: [3, 3, 32, 16] },
  { x: [19, 9, 9, 32], filter: [3, 3, 32, 40] },
  // 20 output channels: the last thread's range is a half panel (4 of 8 columns).
  { x: [8, 10, 10, 16], filter: [3, 3, 16, 20] },
];

describe('threaded project kernels (wasm, multi-threaded build) at 1, 2 and 3 threads', () => {
  beforeAll(async () => {
    enableWasmThreadsInNode(3);
    await withCoresForThreads(3, startWasm);
  });

  it('run on the threaded build with the asked thread count', () => {
    expect(getThreadsCount()).toBe(3);
    const backend = tf.backend() as unknown as WasmBackendLike;
    for (const threads of [1, 2, 3]) {
      setKernelThreads(threads);
      expect(kernelThreadCount(backend)).toBe(threads);
    }
  });

  it.each(CASES)('convolution, filter and input gradients match cpu, and are identical at every thread count: $x / $filter', async (c) => {
    const xv = randomValues(size(c.x), 11);
    const wv = randomValues(size(c.filter), 12).map((v) => v * 0.2);
    const bv = randomValues(c.filter[3], 13);
    const forward = () => tf.fused.conv2d({ x: tf.tensor(xv, c.x) as tf.Tensor4D, filter: tf.tensor(wv, c.filter) as tf.Tensor4D, bias: tf.tensor(bv), strides: 1, pad: 'same', activation: 'relu' });
    const yShape = tf.tidy(() => forward().shape);
    const dyv = randomValues(size(yShape), 14);
    // d/dw Σ conv(x, w) ⊙ dy is the filter gradient for dy.
    const filterGrad = () =>
      tf.tidy(() => {
        const x = tf.tensor(xv, c.x) as tf.Tensor4D;
        const dy = tf.tensor(dyv, yShape);
        return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'same'), dy)))(tf.tensor(wv, c.filter));
      });
    const inputGrad = () =>
      tf.tidy(() => {
        const w = tf.tensor(wv, c.filter) as tf.Tensor4D;
        const dy = tf.tensor(dyv, yShape);
        return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w, 1, 'same'), dy)))(tf.tensor(xv, c.x));
      });
    await tf.setBackend('cpu');
    const cpuY = tf.tidy(() => forward().dataSync() as Float32Array);
    const cpuDw = tf.tidy(() => filterGrad().dataSync() as Float32Array);
    const cpuDx = tf.tidy(() => inputGrad().dataSync() as Float32Array);
    await tf.setBackend('wasm');
    const results: Array<{ y: Float32Array; dw: Float32Array; dx: Float32Array }> = [];
    for (const threads of [1, 2, 3]) {
      setKernelThreads(threads);
      const calls = { ...winogradCalls };
      const y = forward();
      const dw = filterGrad();
      const before = winogradCalls.forward;
      const dx = inputGrad();
      const wasm = { y: y.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
      tf.dispose([y, dw, dx]);
      expect(winogradCalls.forward, 'the input gradient took the Winograd path').toBeGreaterThan(before);
      expect(winogradCalls.forward, 'the forward pass took the Winograd path').toBeGreaterThan(calls.forward);
      expect(winogradCalls.filterGrad, 'the filter gradient took the Winograd path').toBeGreaterThan(calls.filterGrad);
      expect(relativeError(cpuY, wasm.y), `forward at ${threads} threads`).toBeLessThan(2e-5);
      expect(relativeError(cpuDw, wasm.dw), `filter gradient at ${threads} threads`).toBeLessThan(2e-5);
      expect(relativeError(cpuDx, wasm.dx), `input gradient at ${threads} threads`).toBeLessThan(2e-5);
      results.push(wasm);
    }
    for (const r of results.slice(1)) {
      expect(Buffer.from(r.y.buffer).equals(Buffer.from(results[0]!.y.buffer)), 'forward identical across thread counts').toBe(true);
      expect(Buffer.from(r.dw.buffer).equals(Buffer.from(results[0]!.dw.buffer)), 'filter gradient identical across thread counts').toBe(true);
      expect(Buffer.from(r.dx.buffer).equals(Buffer.from(results[0]!.dx.buffer)), 'input gradient identical across thread counts').toBe(true);
    }
  });

  it('LRN, its gradient, the max-pool gradient and the SGD update match cpu, identical at every thread count', async () => {
    const shape: Shape4 = [6, 13, 13, 24];
    const xv = randomValues(size(shape), 21).map((v) => v * 20);
    const block = (xt: tf.Tensor) => tf.sum(tf.sin(tf.maxPool(tf.localResponseNormalization(tf.relu(xt) as tf.Tensor4D, 2, 2, 1e-3, 0.75), 3, 2, 'valid')));
    const lrnGradient = () => tf.tidy(() => tf.grad(block)(tf.tensor(xv, shape)));
    const lrnForward = () => tf.localResponseNormalization(tf.tensor(xv, shape) as tf.Tensor4D, 2, 2, 1e-3, 0.75);
    // PaperSgd's fused update over 200 001 weights (not a multiple of 4: the last share is ragged).
    const n = 200_001;
    const [v, g, w] = [31, 32, 33].map((seed) => randomValues(n, seed));
    const sgd = () =>
      tf.tidy(() => {
        const [nv, nw] = tf.engine().runKernel(PAPER_SGD_KERNEL, { v: tf.tensor(v!), g: tf.tensor(g!), w: tf.tensor(w!) }, { momentum: 0.9, lr: 0.01, decay: 5e-6 }) as unknown as tf.Tensor[];
        return tf.concat([nv!, nw!]);
      });
    const reference = (w: tf.Tensor) => w.dataSync() as Float32Array;
    await tf.setBackend('cpu');
    const cpu = [tf.tidy(() => reference(lrnForward())), tf.tidy(() => reference(lrnGradient()))];
    // cpu has no PaperSgdUpdate: the paper's rule, element by element, in float32.
    const sgdRef = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const nv = Math.fround(Math.fround(Math.fround(Math.fround(0.9) * v![i]!) - Math.fround(Math.fround(0.01) * g![i]!)) - Math.fround(Math.fround(5e-6) * w![i]!));
      sgdRef[i] = nv;
      sgdRef[n + i] = Math.fround(w![i]! + nv);
    }
    await tf.setBackend('wasm');
    const runs: Float32Array[][] = [];
    for (const threads of [1, 2, 3]) {
      setKernelThreads(threads);
      const wasm = [tf.tidy(() => reference(lrnForward())), tf.tidy(() => reference(lrnGradient())), tf.tidy(() => reference(sgd()))];
      expect(relativeError(cpu[0]!, wasm[0]!), `LRN at ${threads} threads`).toBeLessThan(1e-5);
      expect(relativeError(cpu[1]!, wasm[1]!), `LRN + max-pool gradient at ${threads} threads`).toBeLessThan(1e-5);
      expect(relativeError(sgdRef, wasm[2]!), `SGD update at ${threads} threads`).toBeLessThan(1e-6);
      runs.push(wasm);
    }
    for (const run of runs.slice(1)) {
      run.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(runs[0]![i]!.buffer)), `result ${i} identical across thread counts`).toBe(true));
    }
  });

  it('the ReLU + bias gradient matches Step, Multiply and Sum on cpu (NaN, ±0, ∞ included), identical at every thread count', async () => {
    // 3·20·19 = 1140 rows: three shares of up to 512; 13 columns: a scalar tail after three of four.
    const shape: Shape4 = [3, 20, 19, 13];
    const yv = randomValues(size(shape), 51);
    const dyv = randomValues(size(shape), 52);
    [yv[0], yv[1], yv[2], yv[3]] = [0, -0, Number.NaN, 1e-30];
    [dyv[4], yv[4], dyv[5], yv[5]] = [Number.POSITIVE_INFINITY, -1, Number.NEGATIVE_INFINITY, 2];
    const viaOps = () =>
      tf.tidy(() => {
        const [dy, y] = [tf.tensor(dyv, shape), tf.tensor(yv, shape)];
        const dz = tf.mul(dy, tf.step(y));
        return [dz.dataSync() as Float32Array, tf.sum(dz, [0, 1, 2]).dataSync() as Float32Array];
      });
    const fused = () =>
      tf.tidy(() => {
        const [dz, db] = tf.engine().runKernel(RELU_BIAS_GRAD_KERNEL, { dy: tf.tensor(dyv, shape), y: tf.tensor(yv, shape) }, {}) as unknown as tf.Tensor[];
        return [dz!.dataSync() as Float32Array, db!.dataSync() as Float32Array];
      });
    const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]) || (Number.isNaN(v) && Number.isNaN(b[i]!)));
    await tf.setBackend('cpu');
    const [cpuDz, cpuDb] = viaOps() as [Float32Array, Float32Array];
    expect(Number.isNaN(cpuDz[2]!) && Number.isNaN(cpuDz[4]!) && cpuDz[5] === Number.NEGATIVE_INFINITY, 'the case covers NaN and ∞').toBe(true);
    await tf.setBackend('wasm');
    const runs: Float32Array[][] = [];
    for (const threads of [1, 2, 3]) {
      setKernelThreads(threads);
      const [dz, db] = fused() as [Float32Array, Float32Array];
      expect(same(cpuDz, dz), `dz at ${threads} threads`).toBe(true);
      const finite = (a: Float32Array) => a.filter((_, c) => c !== 2 && c !== 4 && c !== 5);
      expect(relativeError(finite(cpuDb), finite(db)), `db at ${threads} threads`).toBeLessThan(1e-5);
      expect(same(cpuDb.filter((_, c) => c === 2 || c === 4 || c === 5), db.filter((_, c) => c === 2 || c === 4 || c === 5)), `NaN and ∞ columns of db at ${threads} threads`).toBe(true);
      runs.push([dz, db]);
    }
    for (const run of runs.slice(1)) {
      run.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(runs[0]![i]!.buffer)), `result ${i} identical across thread counts`).toBe(true));
    }
  });

  it("training's LRN (keeping N^-1/4) and its gradient match LRN and LRNGrad on cpu, in SIMD at 1, 2 and 3 threads (identical) and in JS", async () => {
    // 8·9·11 = 792 pixels: several shares at 2 and 3 threads; 22 channels: a scalar tail after five groups of four.
    const shape: Shape4 = [8, 9, 11, 22];
    const xv = randomValues(size(shape), 61).map((v) => v * 30);
    const dyv = randomValues(size(shape), 62);
    const lrnArgs = [2, 1.5, 1e-3, 0.75] as const;
    const attrs = { depthRadius: 2, bias: 1.5, alpha: 1e-3, beta: 0.75 };
    await tf.setBackend('cpu');
    const [cpuY, cpuDx] = tf.tidy(() => {
      const x = tf.tensor(xv, shape) as tf.Tensor4D;
      const y = tf.localResponseNormalization(x, ...lrnArgs);
      const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.localResponseNormalization(t as tf.Tensor4D, ...lrnArgs), tf.tensor(dyv, shape))))(x);
      return [y.dataSync() as Float32Array, dx.dataSync() as Float32Array];
    });
    await tf.setBackend('wasm');
    const ours = () =>
      tf.tidy(() => {
        const x = tf.tensor(xv, shape);
        const [y, rho] = tf.engine().runKernel(LRN_TRAIN_KERNEL, { x }, attrs) as unknown as tf.Tensor[];
        const dx = tf.engine().runKernel(LRN_TRAIN_GRAD_KERNEL, { x, y: y!, rho: rho!, dy: tf.tensor(dyv, shape) }, attrs) as tf.Tensor;
        return [y!.dataSync() as Float32Array, dx.dataSync() as Float32Array];
      });
    const runs: Float32Array[][] = [];
    for (const threads of [1, 2, 3]) {
      setKernelThreads(threads);
      const [y, dx] = ours() as [Float32Array, Float32Array];
      expect(relativeError(cpuY, y), `LRN at ${threads} threads`).toBeLessThan(1e-5);
      expect(relativeError(cpuDx, dx), `its gradient at ${threads} threads`).toBeLessThan(1e-5);
      runs.push([y, dx]);
    }
    for (const run of runs.slice(1)) {
      run.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(runs[0]![i]!.buffer)), `result ${i} identical across thread counts`).toBe(true));
    }
    setSimdKernelsEnabled(false);
    try {
      const [y, dx] = ours() as [Float32Array, Float32Array];
      expect(relativeError(cpuY, y), 'LRN in JS').toBeLessThan(1e-5);
      expect(relativeError(cpuDx, dx), 'its gradient in JS').toBeLessThan(1e-5);
    } finally {
      setSimdKernelsEnabled(true);
    }
    expect(() => tf.tidy(() => tf.engine().runKernel(LRN_TRAIN_KERNEL, { x: tf.ones(shape) }, { ...attrs, beta: 0.5 }))).toThrow(/β = 0.75 only/);
  });

  it('runs every share exactly once when helpers wake late, are withdrawn or join midway (2000 small jobs back to back)', () => {
    // LRN on 2 × 16 × 16 × 8 splits into 2 shares: small enough that the caller often finishes both before a
    // helper wakes (the job is withdrawn from it), large enough that a helper sometimes claims one. Every
    // input differs, so a share run twice, skipped or run on another job's arguments shows as a wrong value.
    const shape: Shape4 = [2, 16, 16, 8];
    const base = randomValues(size(shape), 41);
    const inputs = Array.from({ length: 2000 }, (_, i) => base.map((v) => v * (1 + (i % 97) / 10)));
    const lrnOf = (xv: Float32Array) => tf.tidy(() => tf.localResponseNormalization(tf.tensor(xv, shape) as tf.Tensor4D, 2, 1, 0.5, 0.75).dataSync() as Float32Array);
    setKernelThreads(1);
    const expected = inputs.map(lrnOf);
    for (const threads of [2, 3]) {
      setKernelThreads(threads);
      let wrong = 0;
      inputs.forEach((xv, i) => {
        if (i % 50 === 0) {
          // Let the helpers fall asleep: the next job finds them waking late.
          const until = performance.now() + 1;
          while (performance.now() < until) {
            // wait
          }
        }
        if (!Buffer.from(lrnOf(xv).buffer).equals(Buffer.from(expected[i]!.buffer))) {
          wrong += 1;
        }
      });
      expect(wrong, `jobs with a wrong result at ${threads} threads`).toBe(0);
    }
  });
});
