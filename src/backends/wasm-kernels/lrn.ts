import type { TensorInfo, WasmKernelFunc } from './kernel-call.js';
import { runSplit } from './kernel-pool.js';
import { heapOffset, kernelPool, simdKernels, withScratch } from './simd-module.js';

/** Fewest pixels worth a thread of their own (a share of a few microseconds costs more to hand over). */
const PIXELS_PER_SHARE = 256;

interface LrnAttrs {
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

/**
 * For one pixel at `p`, fills `norm` with N_c = k + α Σ_{|j−c|≤r} x_j² by a running window sum
 * and `pow` with N_c^−β; β = 0.75 (the paper's) takes two square roots, much cheaper than Math.pow.
 * Scalars are passed as arguments: reading them off the attrs object inside the loop is slower.
 */
function norms(xs: Float32Array, p: number, channels: number, r: number, k: number, alpha: number, beta: number, norm: Float64Array, pow: Float64Array): void {
  let sum = 0;
  for (let j = 0; j < r && j < channels; j++) {
    const v = xs[p + j] as number;
    sum += v * v;
  }
  for (let c = 0; c < channels; c++) {
    if (c + r < channels) {
      const v = xs[p + c + r] as number;
      sum += v * v;
    }
    if (c > r) {
      const v = xs[p + c - r - 1] as number;
      sum -= v * v;
    }
    norm[c] = k + alpha * sum;
  }
  if (beta === 0.75) {
    for (let c = 0; c < channels; c++) {
      const s = Math.sqrt(norm[c] as number);
      pow[c] = 1 / (s * Math.sqrt(s));
    }
  } else {
    for (let c = 0; c < channels; c++) {
      pow[c] = Math.pow(norm[c] as number, -beta);
    }
  }
}

/**
 * Local response normalisation across channels, directly on the wasm heap: for β = 0.75 (the paper's)
 * the SIMD module's kernel (simd-kernels.c), otherwise JS, O(channels) per pixel by running window
 * sums (the backend's kernel is O(channels · window) with pow per term).
 */
export const lrn: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { depthRadius, bias, alpha, beta } = attrs as unknown as LrnAttrs;
  const channels = x.shape[3] as number;
  const out = backend.makeOutput(x.shape, 'float32');
  const simd = beta === 0.75 ? simdKernels(backend) : null;
  if (simd) {
    const pixels = x.shape.reduce((p, d) => p * d, 1) / channels;
    const r = depthRadius;
    const [px, py] = [heapOffset(backend, x), heapOffset(backend, out)];
    const pool = kernelPool(backend);
    const scratchBytes = 4 * (channels + 2 * r);
    // Pixels split into shares, each thread with its own scratch (identical at every thread count).
    withScratch(backend, scratchBytes * (pool?.threads ?? 1), (scratch) =>
      runSplit(
        simd,
        pool,
        pixels,
        PIXELS_PER_SHARE,
        'lrn_forward',
        (p0, p1) => [px + 4 * p0 * channels, py + 4 * p0 * channels, p1 - p0, channels, r, bias, alpha, scratch],
        [0, 0, 0, 0, 0, 0, 0, scratchBytes],
      ),
    );
    return out;
  }
  const xs = backend.typedArrayFromHeap(x);
  const ys = backend.typedArrayFromHeap(out);
  const norm = new Float64Array(channels);
  const pow = new Float64Array(channels);
  for (let p = 0; p < xs.length; p += channels) {
    norms(xs, p, channels, depthRadius, bias, alpha, beta, norm, pow);
    for (let c = 0; c < channels; c++) {
      ys[p + c] = (xs[p + c] as number) * (pow[c] as number);
    }
  }
  return out;
};

/**
 * LRN gradient (TensorFlow's definition): dx_k = dy_k·N_k^−β − 2αβ·x_k·Σ_{|o−k|≤r} dy_o·y_o / N_o,
 * both window sums running, O(channels) per pixel; in the SIMD module for β = 0.75.
 */
export const lrnGrad: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const y = inputs.y as TensorInfo;
  const dy = inputs.dy as TensorInfo;
  const { depthRadius: r, bias, alpha, beta } = attrs as unknown as LrnAttrs;
  const channels = x.shape[3] as number;
  const out = backend.makeOutput(x.shape, 'float32');
  const simd = beta === 0.75 ? simdKernels(backend) : null;
  if (simd) {
    const pixels = x.shape.reduce((p, d) => p * d, 1) / channels;
    const [px, py, pdy, pdx] = [x, y, dy, out].map((t) => heapOffset(backend, t)) as [number, number, number, number];
    const pool = kernelPool(backend);
    const scratchBytes = 12 * (channels + 2 * r);
    withScratch(backend, scratchBytes * (pool?.threads ?? 1), (scratch) =>
      runSplit(
        simd,
        pool,
        pixels,
        PIXELS_PER_SHARE,
        'lrn_backward',
        (p0, p1) => {
          const at = 4 * p0 * channels;
          return [px + at, py + at, pdy + at, pdx + at, p1 - p0, channels, r, bias, alpha, scratch];
        },
        [0, 0, 0, 0, 0, 0, 0, 0, 0, scratchBytes],
      ),
    );
    return out;
  }
  const xs = backend.typedArrayFromHeap(x);
  const ys = backend.typedArrayFromHeap(y);
  const dys = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(out);
  const norm = new Float64Array(channels);
  const pow = new Float64Array(channels);
  const t = new Float64Array(channels);
  const scale = -2 * alpha * beta;
  for (let p = 0; p < xs.length; p += channels) {
    norms(xs, p, channels, r, bias, alpha, beta, norm, pow);
    for (let c = 0; c < channels; c++) {
      t[c] = ((dys[p + c] as number) * (ys[p + c] as number)) / (norm[c] as number);
    }
    let sum = 0;
    for (let j = 0; j < r && j < channels; j++) {
      sum += t[j] as number;
    }
    for (let c = 0; c < channels; c++) {
      if (c + r < channels) {
        sum += t[c + r] as number;
      }
      if (c > r) {
        sum -= t[c - r - 1] as number;
      }
      dx[p + c] = (dys[p + c] as number) * (pow[c] as number) + scale * (xs[p + c] as number) * sum;
    }
  }
  return out;
};

/**
 * LRN for training, β = 0.75 only: [y, ρ] with ρ = N^−1/4 per element, kept for {@link lrnTrainGrad}
 * (N^−β = ρ³ and 1/N = ρ⁴ by multiplying: its gradient needs no square root or division).
 */
export const lrnTrain: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  const { depthRadius: r, bias, alpha, beta } = attrs as unknown as LrnAttrs;
  if (beta !== 0.75 || x.dtype !== 'float32') {
    throw new Error(`LRNTrain: float32 and β = 0.75 only (got ${x.dtype}, β = ${beta})`);
  }
  const channels = x.shape[x.shape.length - 1] as number;
  const pixels = x.shape.reduce((p, d) => p * d, 1) / channels;
  const y = backend.makeOutput(x.shape, 'float32');
  const rho = backend.makeOutput(x.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd) {
    const [px, py, pr] = [x, y, rho].map((t) => heapOffset(backend, t)) as [number, number, number];
    const pool = kernelPool(backend);
    const scratchBytes = 4 * (channels + 2 * r);
    withScratch(backend, scratchBytes * (pool?.threads ?? 1), (scratch) =>
      runSplit(
        simd,
        pool,
        pixels,
        PIXELS_PER_SHARE,
        'lrn_forward_keep',
        (p0, p1) => [px + 4 * p0 * channels, py + 4 * p0 * channels, pr + 4 * p0 * channels, p1 - p0, channels, r, bias, alpha, scratch],
        [0, 0, 0, 0, 0, 0, 0, 0, scratchBytes],
      ),
    );
    return [y, rho] as unknown as TensorInfo;
  }
  const [xs, ys, rs] = [x, y, rho].map((t) => backend.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array];
  const norm = new Float64Array(channels);
  const pow = new Float64Array(channels);
  for (let p = 0; p < xs.length; p += channels) {
    norms(xs, p, channels, r, bias, alpha, beta, norm, pow);
    for (let c = 0; c < channels; c++) {
      const q = Math.fround(1 / Math.sqrt(Math.sqrt(norm[c] as number)));
      rs[p + c] = q;
      ys[p + c] = (xs[p + c] as number) * q * q * q;
    }
  }
  return [y, rho] as unknown as TensorInfo;
};

/** The gradient of {@link lrnTrain} from its kept ρ: dx_c = dy_c·ρ_c³ − 2αβ·x_c·Σ_{|o−c|≤r} dy_o·y_o·ρ_o⁴. */
export const lrnTrainGrad: WasmKernelFunc = ({ inputs, backend, attrs }) => {
  const [x, y, rho, dy] = ['x', 'y', 'rho', 'dy'].map((k) => inputs[k] as TensorInfo) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  const { depthRadius: r, alpha } = attrs as unknown as LrnAttrs;
  const channels = x.shape[x.shape.length - 1] as number;
  const pixels = x.shape.reduce((p, d) => p * d, 1) / channels;
  const dx = backend.makeOutput(x.shape, 'float32');
  const simd = simdKernels(backend);
  if (simd) {
    const [px, py, pr, pdy, pdx] = [x, y, rho, dy, dx].map((t) => heapOffset(backend, t)) as [number, number, number, number, number];
    const pool = kernelPool(backend);
    const scratchBytes = 4 * (channels + 2 * r);
    withScratch(backend, scratchBytes * (pool?.threads ?? 1), (scratch) =>
      runSplit(
        simd,
        pool,
        pixels,
        PIXELS_PER_SHARE,
        'lrn_backward_kept',
        (p0, p1) => {
          const at = 4 * p0 * channels;
          return [px + at, py + at, pr + at, pdy + at, pdx + at, p1 - p0, channels, r, alpha, scratch];
        },
        [0, 0, 0, 0, 0, 0, 0, 0, 0, scratchBytes],
      ),
    );
    return dx;
  }
  const [xs, ys, rs, dys, dxs] = [x, y, rho, dy, dx].map((t) => backend.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const scale = -2 * alpha * 0.75;
  const t = new Float64Array(channels);
  for (let p = 0; p < xs.length; p += channels) {
    for (let c = 0; c < channels; c++) {
      const q = rs[p + c] as number;
      t[c] = (dys[p + c] as number) * (ys[p + c] as number) * q * q * q * q;
    }
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let o = Math.max(0, c - r); o <= Math.min(channels - 1, c + r); o++) {
        sum += t[o] as number;
      }
      const q = rs[p + c] as number;
      dxs[p + c] = (dys[p + c] as number) * q * q * q + scale * (xs[p + c] as number) * sum;
    }
  }
  return dx;
};
