import type { TensorInfo, WasmKernelFunc } from './kernel-call.js';
import { heapOffset, simdKernels, withScratch } from './simd-module.js';

/**
 * Sum over every axis but the last of a float32 tensor (a bias gradient: dy summed over batch, height
 * and width) as one pass of the SIMD module's row sum. The backend's kernel first transposes the
 * reduced axes innermost, a full copy of dy, then sums. Other reductions go to the backend's kernel.
 */
export function sumWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x as TensorInfo;
    const { axis, keepDims } = attrs as { axis: number | number[] | null | undefined; keepDims: boolean };
    const rank = x.shape.length;
    const axes = axis === null || axis === undefined ? null : (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    const leading = axes !== null && rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    const simd = leading && x.dtype === 'float32' ? simdKernels(backend) : null;
    if (!simd) {
      return original(args);
    }
    const cols = x.shape[rank - 1] as number;
    const rows = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
    const out = backend.makeOutput(keepDims ? [...Array(rank - 1).fill(1), cols] : [cols], 'float32');
    if (rows === 0) {
      backend.typedArrayFromHeap(out).fill(0);
      return out;
    }
    // Doubles first (8-byte aligned, as malloc returns), then float partial sums.
    withScratch(backend, 12 * cols, (acc) => simd.sum_rows(heapOffset(backend, x), heapOffset(backend, out), rows, cols, acc, acc + 8 * cols));
    return out;
  };
}
