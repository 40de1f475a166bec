import type { TensorInfo, WasmKernelFunc } from './kernel-call.js';
import { runOnThreads } from './kernel-pool.js';
import { heapFloats, heapOffset, kernelPool, simdKernels, withScratch } from './simd-module.js';

/**
 * Rows per share: whole 64-row blocks (the summation's), at least 512 rows, at most 16 shares. Set by
 * the shape alone, so the bias gradient is summed in the same order at every thread count.
 */
function rowsPerShare(rows: number): number {
  return Math.max(512, 64 * Math.ceil(rows / 64 / 16));
}

/**
 * The gradient through y = ReLU(conv + bias), as one pass instead of Step, Multiply and Sum (each a
 * single-threaded pass of the backend's): dz = dy·step(y) and db = Σ dz over every axis but the last,
 * [dz, db]. Shares of rows run on the kernel threads; each sums its rows into doubles, added in share order.
 */
export const reluBiasGrad: WasmKernelFunc = ({ inputs, backend }) => {
  const dy = inputs.dy as TensorInfo;
  const y = inputs.y as TensorInfo;
  if (dy.dtype !== 'float32' || y.dtype !== 'float32' || y.shape.length < 1 || dy.shape.join() !== y.shape.join()) {
    throw new Error(`ReluBiasGrad: dy and y must be float32 tensors of one shape (got ${dy.dtype} [${dy.shape}] and ${y.dtype} [${y.shape}])`);
  }
  const cols = y.shape[y.shape.length - 1] as number;
  const rows = y.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const dz = backend.makeOutput(y.shape, 'float32');
  const db = backend.makeOutput([cols], 'float32');
  const simd = simdKernels(backend);
  if (!simd) {
    const [dys, ys, dzs, sums] = [dy, y, dz, db].map((t) => backend.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const acc = new Float64Array(cols);
    for (let i = 0; i < rows * cols; i++) {
      const v = ys[i] as number;
      const d = Math.fround((dys[i] as number) * (Number.isNaN(v) ? v : v > 0 ? 1 : 0));
      dzs[i] = d;
      acc[i % cols] = (acc[i % cols] as number) + d;
    }
    sums.set(acc);
    return [dz, db] as unknown as TensorInfo;
  }
  const per = rowsPerShare(rows);
  const count = Math.ceil(rows / per);
  const [pdy, py, pdz] = [dy, y, dz].map((t) => heapOffset(backend, t)) as [number, number, number];
  // Per share: cols doubles of sums (8-byte aligned: first), then cols floats of partial sums.
  withScratch(backend, 12 * cols * count, (scratch) => {
    const shares = Array.from({ length: count }, (_, i) => {
      const [r0, r1] = [i * per, Math.min(rows, (i + 1) * per)];
      return [pdy + 4 * r0 * cols, py + 4 * r0 * cols, pdz + 4 * r0 * cols, r1 - r0, cols, scratch + 8 * cols * i, scratch + 8 * cols * count + 4 * cols * i];
    });
    runOnThreads(simd, kernelPool(backend), { fn: 'relu_grad_rows', shares });
    const sums = new Float64Array(heapFloats(backend, 0, 0).buffer, scratch, cols * count);
    const out = backend.typedArrayFromHeap(db);
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let i = 0; i < count; i++) {
        s += sums[i * cols + c] as number;
      }
      out[c] = s;
    }
  });
  return [dz, db] as unknown as TensorInfo;
};
