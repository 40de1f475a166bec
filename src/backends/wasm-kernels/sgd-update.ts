import type { TensorInfo, WasmKernelFunc } from './kernel-call.js';
import { heapOffset, simdKernels } from './simd-module.js';

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
    simd.sgd_update(heapOffset(backend, v), heapOffset(backend, g), heapOffset(backend, w), heapOffset(backend, vOut), heapOffset(backend, wOut), n, momentum, lr, decay);
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
