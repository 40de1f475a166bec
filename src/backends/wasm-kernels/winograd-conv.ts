import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo, WasmBackendLike, WasmKernelFunc } from './kernel-call.js';
import { heapOffset, simdKernels, withScratch, type SimdKernels } from './simd-module.js';

type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];

export interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

/** Output tile side m for each filter side r: F(4×4, 3×3) and F(2×2, 5×5), both on 6×6 input tiles. */
const TILE: Readonly<Record<number, number>> = { 3: 4, 5: 2 };
/** Bytes of transformed inputs and products per chunk of tiles: small enough to stay in the L2 cache. */
const CHUNK_BYTES = 384 * 1024;
/** Scratch floats wino_conv and wino_filter need (simd-kernels.c): 168, and 32 + 6·r·4 for r ≤ 5. */
const SCRATCH_FLOATS = 168;

/** How many convolutions and filter gradients the Winograd kernels computed (tests check that a shape took this path). */
export const winogradCalls = { forward: 0, filterGrad: 0 };

const ones = (v: number | [number, number] | undefined) => v === undefined || (Array.isArray(v) ? v.every((d) => d === 1) : v === 1);

/** Which computation a plan is for: the convolution itself, or its filter gradient. */
export type WinogradUse = 'forward' | 'filterGrad';

/**
 * Whether Winograd beats the backend's direct kernel (XNNPACK) for this shape, counting
 * multiply-adds and their equivalents:
 * - forward: 36 products per tile and channel pair, plus about 8 per tile and output channel for
 *   storing them (which dominates when there are few input channels, e.g. RGB), the data transforms
 *   (about 60 per tile and input channel, 25 per tile and output channel) and the filter transform,
 *   paid on every call (6r² + 36r per channel pair). It must beat the direct count by 1.5×: small
 *   batches and RGB first layers stay direct (measured slower).
 * - filter gradient: the products (summed over tiles, no store per tile) and the transforms of x and
 *   dy; the direct kernel there is a large-kernel convolution at about 60% of XNNPACK's usual speed,
 *   so no margin.
 */
export function winogradPays(info: tf.backend_util.Conv2DInfo, use: WinogradUse): boolean {
  const { batchSize, outHeight, outWidth, filterHeight: r, inChannels: k, outChannels: n } = info;
  const m = TILE[r] as number;
  const kp = Math.ceil(k / 4) * 4;
  const tiles = batchSize * Math.ceil(outHeight / m) * Math.ceil(outWidth / m);
  const direct = batchSize * outHeight * outWidth * r * r * k * n;
  if (use === 'filterGrad') {
    return direct >= 36 * tiles * kp * n + tiles * (60 * kp + 80 * n);
  }
  const winograd = 36 * tiles * n * (kp + 8) + tiles * (60 * kp + 25 * n) + k * n * (6 * r * r + 36 * r);
  return direct >= 1.5 * winograd;
}

/** What the Winograd kernels need to know of a convolution, or null where they do not apply or would not pay. */
interface Plan {
  info: tf.backend_util.Conv2DInfo;
  r: number;
  m: number;
  k: number;
  /** k rounded up to a multiple of 4 (the SIMD width), the padding zero. */
  kp: number;
  n: number;
  /** n rounded up to the products' panel width, 8. */
  np: number;
  /** Tiles per chunk: transformed inputs and products for that many stay in the L2 cache. */
  chunk: number;
}

/**
 * Checks the shapes and attributes the Winograd kernels take: a stride-1, undilated NHWC 3×3 or 5×5
 * convolution with channels a multiple of 4, on the SIMD module, single-threaded (with several threads
 * XNNPACK uses them all, the Winograd kernels one), at a size where it beats the direct convolution.
 */
function plan(backend: WasmBackendLike, xShape: number[], filterShape: number[], attrs: ConvAttrs, use: WinogradUse): Plan | null {
  const [r, r2, k, n] = filterShape as [number, number, number, number];
  if (
    xShape.length !== 4 ||
    r !== r2 ||
    TILE[r] === undefined ||
    n % 4 !== 0 ||
    (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') ||
    !ones(attrs.dilations) ||
    !ones(attrs.strides) ||
    getThreadsCount() > 1 ||
    !simdKernels(backend)
  ) {
    return null;
  }
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], [r, r, k, n], 1, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.outHeight < 1 || info.outWidth < 1 || !winogradPays(info, use)) {
    return null;
  }
  const np = Math.ceil(n / 8) * 8;
  const kp = Math.ceil(k / 4) * 4;
  return { info, r, m: TILE[r] as number, k, kp, n, np, chunk: Math.max(4, Math.floor(CHUNK_BYTES / (36 * 4 * (kp + np)))) };
}

/**
 * Runs `f` with one allocation carved into 16-byte aligned buffers of the given float counts, the
 * last followed by the kernels' scratch.
 */
function withBuffers(backend: WasmBackendLike, floats: number[], f: (ptrs: number[]) => void): void {
  const padded = floats.map((c) => Math.ceil(c / 4) * 4);
  const total = padded.reduce((a, b) => a + b, 0) + SCRATCH_FLOATS;
  withScratch(backend, 4 * total + 16, (raw) => {
    const ptrs: number[] = [];
    let at = (raw + 15) & ~15;
    for (const c of [...padded, SCRATCH_FLOATS]) {
      ptrs.push(at);
      at += 4 * c;
    }
    f(ptrs);
  });
}

/**
 * A stride-1 3×3 or 5×5 convolution (+ bias, ReLU) by Winograd's minimal filtering in the SIMD module
 * (wino_filter, wino_conv), or null where {@link plan} says no or the activation is not linear/ReLU.
 */
function winogradConv(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, attrs: ConvAttrs): TensorInfo | null {
  const activation = attrs.activation ?? 'linear';
  if (x.dtype !== 'float32' || (activation !== 'linear' && activation !== 'relu')) {
    return null;
  }
  const p = plan(backend, x.shape, filter.shape, attrs, 'forward');
  if (!p || (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== p.n))) {
    return null;
  }
  const simd = simdKernels(backend) as SimdKernels;
  const { info, r, m, k, kp, n, np, chunk } = p;
  const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, n], 'float32');
  winogradCalls.forward += 1;
  withBuffers(backend, [36 * kp * np, 36 * chunk * kp, 36 * chunk * np], ([u, v, mo, scratch]) => {
    simd.wino_filter(heapOffset(backend, filter), u!, r, k, kp, n, np, scratch!);
    const bp = bias ? heapOffset(backend, bias) : 0;
    const { batchSize, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
    simd.wino_conv(heapOffset(backend, x), u!, heapOffset(backend, out), bp, activation === 'relu' ? 1 : 0, batchSize, inHeight, inWidth, k, kp, outHeight, outWidth, n, np, m, padInfo.top, padInfo.left, chunk, v!, mo!, scratch!);
  });
  return out;
}

/**
 * The filter gradient of a stride-1 3×3 or 5×5 convolution by Winograd (wino_filter_grad), or null
 * where {@link plan} says no.
 */
export function winogradFilterGrad(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, filterShape: number[], attrs: ConvAttrs): TensorInfo | null {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    return null;
  }
  const p = plan(backend, x.shape, filterShape, attrs, 'filterGrad');
  if (!p || dy.shape[1] !== p.info.outHeight || dy.shape[2] !== p.info.outWidth || dy.shape[3] !== p.n) {
    return null;
  }
  const simd = simdKernels(backend) as SimdKernels;
  const { info, r, m, k, kp, n, np, chunk } = p;
  const out = backend.makeOutput([r, r, k, n], 'float32');
  winogradCalls.filterGrad += 1;
  withBuffers(backend, [36 * chunk * kp, 36 * chunk * np, 36 * kp * np], ([v, wd, acc, scratch]) => {
    const { batchSize, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
    simd.wino_filter_grad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), batchSize, inHeight, inWidth, k, kp, outHeight, outWidth, n, np, r, m, padInfo.top, padInfo.left, chunk, v!, wd!, acc!, scratch!);
  });
  return out;
}

/** Conv2D: Winograd where it applies and pays, else the backend's kernel. */
export function conv2dWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    return winogradConv(args.backend, x, filter, undefined, args.attrs as unknown as ConvAttrs) ?? original(args);
  };
}

/** FusedConv2D (conv + bias + linear/ReLU): Winograd where it applies and pays, else the backend's kernel. */
export function fusedConv2dWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    if (preluActivationWeights) {
      return original(args);
    }
    return winogradConv(args.backend, x as TensorInfo, filter as TensorInfo, bias, args.attrs as unknown as ConvAttrs) ?? original(args);
  };
}
