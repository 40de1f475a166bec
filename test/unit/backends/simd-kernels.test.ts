import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WasmBackendLike } from '../../../src/backends/wasm-kernels/kernel-call.js';
import { SIMD_KERNELS_SHARED_WASM_BASE64, SIMD_KERNELS_WASM_BASE64 } from '../../../src/backends/wasm-kernels/simd-binary.js';
import { setSimdKernelsEnabled, simdKernels } from '../../../src/backends/wasm-kernels/simd-module.js';
import { PAPER_SGD_KERNEL } from '../../../src/backends/custom-kernels.js';
import { PaperSgd } from '../../../src/train/sgd.js';
import { checkLrnAgainstCpu, onCpuAndWasm, randomValues, relativeError, startWasm } from './wasm-test-backend.js';

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** The ids of a WebAssembly binary's sections, in order (1 type … 8 start, 10 code, 11 data, 12 data count). */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic and version
  while (at < bytes.length) {
    ids.push(bytes[at++] as number);
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++] as number;
      size |= (b & 0x7f) << shift;
      if (b < 0x80) {
        break;
      }
    }
    at += size;
  }
  return ids;
}

describe('SIMD module binaries', () => {
  it('carry no data and no start function: instantiating them writes nothing into tfjs’ memory', () => {
    for (const base64 of [SIMD_KERNELS_WASM_BASE64, SIMD_KERNELS_SHARED_WASM_BASE64]) {
      const ids = sectionIds(Buffer.from(base64, 'base64'));
      expect(ids).toContain(10);
      expect(ids.filter((id) => id === 8 || id === 11 || id === 12)).toEqual([]);
    }
  });
});

describe('SIMD module kernels match cpu', () => {
  beforeAll(startWasm);
  afterEach(() => setSimdKernelsEnabled(true));

  it('Identity shares the data (a clone outlives its source, strings still copy)', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1, 2, 3, 4], [2, 2]);
    const ids = () => tf.engine().backend.numDataIds();
    const before = ids();
    const y = tf.clone(x);
    expect(ids()).toBe(before);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    const s = tf.clone(tf.tensor(['a', 'b']));
    expect(s.dataSync()).toEqual(['a', 'b']);
    s.dispose();
  });

  it('instantiates on the wasm backend’s memory', async () => {
    await tf.setBackend('wasm');
    expect(simdKernels(tf.backend() as unknown as WasmBackendLike)).not.toBeNull();
  });

  it.each([
    { shape: [64, 7, 7, 96], axis: [0, 1, 2], keepDims: false },
    { shape: [3, 5, 4, 7], axis: [0, 1, 2], keepDims: true },
    { shape: [5, 7, 9, 2], axis: [2, 0, 1], keepDims: false },
    { shape: [200, 33], axis: 0, keepDims: false },
    { shape: [130, 3, 5], axis: [-3, -2], keepDims: true },
    { shape: [4, 1, 1, 1], axis: [0, 1, 2], keepDims: false },
    // Not leading axes: the backend's own kernel.
    { shape: [4, 6, 5], axis: [1], keepDims: false },
    { shape: [4, 6, 5], axis: [0, 2], keepDims: true },
  ])('Sum $shape over $axis (keepDims $keepDims)', async (c) => {
    const xv = randomValues(size(c.shape), 7).map((v) => v * 10);
    const { cpu, wasm, shape } = await onCpuAndWasm(() => tf.sum(tf.tensor(xv, c.shape), c.axis, c.keepDims));
    expect(shape).toEqual(tf.tidy(() => tf.sum(tf.zeros(c.shape), c.axis, c.keepDims).shape));
    expect(relativeError(cpu, wasm)).toBeLessThan(1e-6);
  });

  it.each([
    { x: [3, 5, 5, 37], depthRadius: 2 },
    { x: [2, 4, 3, 3], depthRadius: 2 },
    { x: [2, 2, 2, 1], depthRadius: 2 },
    { x: [1, 3, 3, 20], depthRadius: 4 },
    { x: [2, 3, 2, 8], depthRadius: 0 },
  ] as Array<{ x: [number, number, number, number]; depthRadius: number }>)('LRN and LRNGrad at β = 0.75: $x / radius $depthRadius', async (c) => {
    const err = await checkLrnAgainstCpu(c.x, { depthRadius: c.depthRadius, bias: 2, alpha: 1e-3, beta: 0.75 }, 30, 51);
    expect(err.forward).toBeLessThan(1e-5);
    expect(err.gradient).toBeLessThan(1e-5);
  });

  it.each([true, false])('MaxPoolGrad, SIMD module %s, strided and padded windows', async (simd) => {
    setSimdKernelsEnabled(simd);
    const cases: Array<{ x: [number, number, number, number]; pool: number; strides: number; pad: 'same' | 'valid' }> = [
      { x: [2, 16, 15, 7], pool: 3, strides: 2, pad: 'same' },
      { x: [3, 9, 9, 33], pool: 3, strides: 2, pad: 'valid' },
      { x: [1, 6, 7, 2], pool: 2, strides: 1, pad: 'same' },
    ];
    for (const c of cases) {
      const xv = randomValues(size(c.x), 61);
      const outShape = tf.tidy(() => tf.maxPool(tf.zeros(c.x) as tf.Tensor4D, c.pool, c.strides, c.pad).shape);
      const dyv = randomValues(size(outShape), 62);
      const { cpu, wasm } = await onCpuAndWasm(() =>
        tf.tidy(() => {
          const x = tf.tensor(xv, c.x) as tf.Tensor4D;
          const y = tf.maxPool(x, c.pool, c.strides, c.pad);
          return tf.engine().runKernel('MaxPoolGrad', { dy: tf.tensor(dyv, outShape), input: x, output: y }, { filterSize: c.pool, strides: c.strides, pad: c.pad }) as tf.Tensor;
        }),
      );
      expect(relativeError(cpu, wasm)).toBeLessThan(1e-6);
    }
  });

  it.each([true, false])('PaperSgd through the one-pass kernel (SIMD module %s) matches the op-by-op update on cpu', async (simd) => {
    setSimdKernelsEnabled(simd);
    const shapes = [[5, 5, 3, 8], [8], [37, 11], [11]];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      expect(tf.getKernel(PAPER_SGD_KERNEL, backend) !== undefined).toBe(backend === 'wasm');
      const vars = shapes.map((s, i) => ({ key: `l${i >> 1}/${i % 2 ? 'bias' : 'kernel'}`, variable: tf.variable(tf.tensor(randomValues(size(s), 70 + i), s)) }));
      const sgd = new PaperSgd(vars, { momentum: 0.9, weightDecay: 5e-4 });
      for (let step = 0; step < 3; step++) {
        const grads = Object.fromEntries(vars.map(({ variable }, i) => [variable.name, tf.tensor(randomValues(variable.size, 80 + 10 * step + i), variable.shape)]));
        sgd.apply(grads, 0.05);
        tf.dispose(Object.values(grads));
      }
      const state = await sgd.getState();
      const out = { w: vars.map(({ variable }) => variable.dataSync() as Float32Array), v: vars.map(({ key }) => state.momentum[key]!.values) };
      sgd.dispose();
      vars.forEach(({ variable }) => variable.dispose());
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    shapes.forEach((_, i) => {
      expect(relativeError(cpu.w[i]!, wasm.w[i]!)).toBeLessThan(1e-6);
      expect(relativeError(cpu.v[i]!, wasm.v[i]!)).toBeLessThan(1e-6);
    });
  });
});
