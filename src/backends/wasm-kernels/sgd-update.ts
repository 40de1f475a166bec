import type { TensorInfo, WasmKernelFunc } from './kernel-call.js';
import { runSplit } from './kernel-pool.js';
import { heapOffset, kernelPool, simdKernels } from './simd-module.js';

/** Fewest 4-float groups worth a thread of their own (smaller weights update on one thread). */
const SGD_QUADS_PER_SHARE = 16384;

/**
 * PaperSgd's update of one weight as one kernel with two outputs, [v', w']: v' = m·v − lr·g − decay·w,
 * w' = w + v'. Registered for wasm only; PaperSgd uses it where the active backend has it.
 */
export const paperSgdUpdate: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const v = inputs.v as TensorInfo;
  const g = inputs.g as TensorInfo;
  const w = inputs.w as TensorInfo;
  const { momentum, lr, decay } = attrs as { momentum: number; lr: number; decay: number };
  const n = w.shape.reduce((p, d) => p * d, 1);
  if ([v, g].some((t) => t.shape.reduce((p, d) => p * d, 1) !== n) || [v, g, w].some((t) => t.dtype !== 'float32')) {
    throw new Error('PaperSgdUpdate: v, g and w must be float32 tensors of one size');
  }
  const vOut = backend.makeOutput(w.shape, 'float32');
  const wOut = backend.makeOutput(w.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd) {
    const [pv, pg, pw, pvOut, pwOut] = [v, g, w, vOut, wOut].map((t) => heapOffset(backend, t)) as [number, number, number, number, number];
    // Large weights split between the threads in multiples of 4 floats (element-wise: identical at every count).
    runSplit(simd, kernelPool(backend), Math.ceil(n / 4), SGD_QUADS_PER_SHARE, 'sgd_update', (q0, q1) => {
      const [i0, i1] = [4 * q0, Math.min(n, 4 * q1)];
      return [pv + 4 * i0, pg + 4 * i0, pw + 4 * i0, pvOut + 4 * i0, pwOut + 4 * i0, i1 - i0, momentum, lr, decay];
    });
  } else {
    const [vs, gs, ws, nvs, nws] = [v, g, w, vOut, wOut].map((t) => backend.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    const [m, l, d] = [Math.fround(momentum), Math.fround(lr), Math.fround(decay)];
    for (let i = 0; i < n; i++) {
      const nv = Math.fround(Math.fround(Math.fround(m * vs[i]!) - Math.fround(l * gs[i]!)) - Math.fround(d * ws[i]!));
      nvs[i] = nv;
      nws[i] = ws[i]! + nv;
    }
  }
  return [vOut, wOut] as unknown as TensorInfo;
};
