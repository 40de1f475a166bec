import * as tf from '@tensorflow/tfjs';
import type { TensorInfo, WasmBackendLike, WasmKernelFunc } from './kernel-call.js';
import { runOnThreads, SHARES_PER_THREAD, splitRange } from './kernel-pool.js';
import { heapOffset, kernelPool, simdKernels, withScratch, type SimdKernels } from './simd-module.js';

type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];

export interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

/** Input tile side α for each filter side r: F(4×4, 3×3) on 6×6 tiles, F(4×4, 5×5) on 8×8 (4×4 outputs each). */
const ALPHA: Readonly<Record<number, number>> = { 3: 6, 5: 8 };
const M = 4;
/** Bytes of transformed inputs and products per chunk of tiles: small enough to stay in the L2 cache. */
const CHUNK_BYTES = 384 * 1024;
/** Scratch floats the SIMD module's Winograd functions need (simd-kernels.c): 64 vectors. */
const SCRATCH_FLOATS = 256;

/**
 * How many convolutions and filter gradients the Winograd kernels computed, and how many filters'
 * transforms are kept now (tests check that a shape took this path, and that kept transforms are freed).
 */
export const winogradCalls = { forward: 0, filterGrad: 0, keptFilters: 0 };

const ones = (v: number | [number, number] | undefined) => v === undefined || (Array.isArray(v) ? v.every((d) => d === 1) : v === 1);

/** Which computation a plan is for: the convolution itself, or its filter gradient. */
export type WinogradUse = 'forward' | 'filterGrad';

/**
 * Whether Winograd beats the backend's direct kernel (XNNPACK) for this shape, counting
 * multiply-adds and their equivalents:
 * - forward: α² products per tile and channel pair, plus about α²/4.5 per tile and output channel for
 *   storing them (which dominates when there are few input channels, e.g. RGB), the data transforms
 *   (about 60 per tile and input channel, 25 per tile and output channel for α = 6; more for α = 8)
 *   and the filter transform, paid on every call unless kept (αr² + α²r per channel pair). It must
 *   beat the direct count by 1.5×: small batches and RGB first layers stay direct (measured slower).
 * - filter gradient: the products (summed over tiles, no store per tile) and the transforms of x and
 *   dy; the direct kernel there is a large-kernel convolution at about 60% of XNNPACK's usual speed,
 *   so no margin.
 */
export function winogradPays(info: tf.backend_util.Conv2DInfo, use: WinogradUse, filterTransformed = false): boolean {
  const { batchSize, outHeight, outWidth, filterHeight: r, inChannels: k, outChannels: n } = info;
  const a = ALPHA[r] as number;
  const scale = (a * a) / 36;
  const kp = Math.ceil(k / 4) * 4;
  const tiles = batchSize * Math.ceil(outHeight / M) * Math.ceil(outWidth / M);
  const direct = batchSize * outHeight * outWidth * r * r * k * n;
  if (use === 'filterGrad') {
    return direct >= a * a * tiles * kp * n + scale * tiles * (60 * kp + 80 * n);
  }
  if (k <= 4 && r === 5) {
    // Few input channels (RGB), 5×5: XNNPACK's direct kernel runs far below its usual rate there, while the
    // fixed costs of a Winograd call dominate small batches. Measured (5×5, 3 → 32, one thread):
    // 64×32×32 7.9 vs 14.9 ms, 16×64×64 7.7 vs 14.7, 4×64×64 1.9 vs 3.8; but 8×32×32 2.7 vs 1.9 and
    // 1×64×64 1.4 vs 1.0. So by output pixels: a training batch takes Winograd, a single image not.
    // (3×3 RGB layers, in no model here, measured either way: the general count decides.)
    return batchSize * outHeight * outWidth >= 16384;
  }
  const winograd = a * a * tiles * n * (kp + 8 * scale) + scale * tiles * (60 * kp + 25 * n) + (filterTransformed ? 0 : k * n * (a * r * r + a * a * r));
  return direct >= 1.5 * winograd;
}

/** What the Winograd kernels need to know of a convolution, or null where they do not apply or would not pay. */
interface Plan {
  info: tf.backend_util.Conv2DInfo;
  /** Input tile side: 6 for 3×3 filters, 8 for 5×5. */
  a: number;
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
 * convolution with output channels a multiple of 4 (input channels are padded), on the SIMD module,
 * at a size where it beats the direct convolution. With several threads (the multi-threaded build) the
 * images are split between them, as XNNPACK splits its own work.
 */
function plan(backend: WasmBackendLike, xShape: number[], filterShape: number[], attrs: ConvAttrs, use: WinogradUse, filterTransformed = false): Plan | null {
  const [r, r2, k, n] = filterShape as [number, number, number, number];
  if (
    xShape.length !== 4 ||
    r !== r2 ||
    ALPHA[r] === undefined ||
    n % 4 !== 0 ||
    (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') ||
    !ones(attrs.dilations) ||
    !ones(attrs.strides) ||
    !simdKernels(backend)
  ) {
    return null;
  }
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], [r, r, k, n], 1, 1, attrs.pad, attrs.dimRoundingMode);
  if (info.outHeight < 1 || info.outWidth < 1 || !winogradPays(info, use, filterTransformed)) {
    return null;
  }
  const np = Math.ceil(n / 8) * 8;
  const kp = Math.ceil(k / 4) * 4;
  // Enough tiles per chunk for the L2 cache, and at least as many as make the chunk's transformed data
  // as large as the transformed filter, which every chunk reads again (wide layers: alexnet's 384×256).
  const a = ALPHA[r] as number;
  const chunk = Math.max(4, Math.floor(CHUNK_BYTES / (a * a * 4 * (kp + np))), Math.ceil((kp * np) / (kp + np) / 4) * 4);
  return { info, a, k, kp, n, np, chunk };
}

interface WasmAllocator {
  wasm: { _malloc(bytes: number): number; _free(ptr: number): void };
}

/**
 * Filters in the products' form (wino_filter's output), kept while the filter tensor lives: inference
 * multiplies by the same weights batch after batch, and at batch 1 the transform costs as much as
 * the products. Per backend: filter dataId → the allocation (freed with the filter's data).
 */
const transformedFilters = new WeakMap<object, Map<object, { raw: number; ptr: number }>>();
/** Filters seen once: a filter is transformed for keeps on its second use (training's weights change every step). */
const seenFilters = new WeakSet<object>();

function filterCache(backend: WasmBackendLike): Map<object, { raw: number; ptr: number }> {
  let cache = transformedFilters.get(backend);
  if (!cache) {
    const entries = new Map<object, { raw: number; ptr: number }>();
    cache = entries;
    transformedFilters.set(backend, entries);
    // Free a kept transform when its filter's data is freed (tensor disposed, variable reassigned).
    const wasm = (backend as unknown as WasmAllocator).wasm;
    const dispose = backend.disposeData.bind(backend);
    backend.disposeData = (dataId, force) => {
      const freed = dispose(dataId, force);
      const entry = freed ? entries.get(dataId as object) : undefined;
      if (entry) {
        entries.delete(dataId as object);
        wasm._free(entry.raw);
        winogradCalls.keptFilters -= 1;
      }
      return freed;
    };
  }
  return cache;
}

/** The filter's kept transform (null if none yet), and whether to make one now (its second use). */
function keptFilter(backend: WasmBackendLike, filter: TensorInfo): { ptr: number | null; keep: boolean } {
  const id = filter.dataId as object;
  const kept = filterCache(backend).get(id);
  if (kept) {
    return { ptr: kept.ptr, keep: false };
  }
  const keep = seenFilters.has(id);
  seenFilters.add(id);
  return { ptr: null, keep };
}

/** Transforms `filter` into a new allocation kept until the filter's data is freed. */
function keepFilter(backend: WasmBackendLike, simd: SimdKernels, filter: TensorInfo, p: Plan): number {
  const wasm = (backend as unknown as WasmAllocator).wasm;
  const floats = p.a * p.a * p.kp * p.np;
  const raw = wasm._malloc(4 * floats + 16) >>> 0;
  const ptr = (raw + 15) & ~15;
  withBuffers(backend, [], ([scratch]) => simd.wino_filter(heapOffset(backend, filter), ptr, p.a, p.k, p.kp, p.n, p.np, 0, p.n, scratch!));
  filterCache(backend).set(filter.dataId as object, { raw, ptr });
  winogradCalls.keptFilters += 1;
  return ptr;
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
 * With `rotated`, x is convolved with `filter` [r, r, N, K] turned 180° with its channels swapped
 * (turn_filter; a convolution's input gradient, whose filter is never kept: it changes every step).
 */
function winogradConv(backend: WasmBackendLike, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, attrs: ConvAttrs, rotated = false): TensorInfo | null {
  const activation = attrs.activation ?? 'linear';
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (activation !== 'linear' && activation !== 'relu')) {
    return null;
  }
  const simd = simdKernels(backend);
  const kept = simd && !rotated ? keptFilter(backend, filter) : { ptr: null, keep: false };
  const [fh, fw, fk, fn] = filter.shape as [number, number, number, number];
  const p = plan(backend, x.shape, rotated ? [fh, fw, fn, fk] : filter.shape, attrs, 'forward', kept.ptr !== null);
  if (!simd || !p || (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== p.n))) {
    return null;
  }
  const { info, a, k, kp, n, np, chunk } = p;
  const transformed = kept.ptr ?? (kept.keep ? keepFilter(backend, simd, filter, p) : null);
  const out = backend.makeOutput([info.batchSize, info.outHeight, info.outWidth, n], 'float32');
  winogradCalls.forward += 1;
  const pool = kernelPool(backend);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  // The images split into shares (several per thread: see runOnThreads), each thread with its own
  // transformed inputs, products and scratch, `stride` bytes apart.
  const threads = pool?.threads ?? 1;
  const shares = splitRange(batchSize, Math.min(batchSize, threads > 1 ? SHARES_PER_THREAD * threads : 1));
  const perThread = [a * a * chunk * kp, a * a * chunk * np, SCRATCH_FLOATS];
  const stride = 4 * perThread.reduce((sum, c) => sum + Math.ceil(c / 4) * 4, 0);
  const r = a - 3;
  withBuffers(backend, [transformed === null ? a * a * kp * np : 0, rotated ? r * r * k * n : 0, ...new Array<number[]>(threads).fill(perThread).flat()], ([own, turned, v, mo, scratch]) => {
    const u = transformed ?? own!;
    if (transformed === null) {
      let pw = heapOffset(backend, filter);
      if (rotated) {
        simd.turn_filter(pw, turned!, r, n, k);
        pw = turned!;
      }
      // The filter's transform, its 8-wide panels split into shares (each value computed once, alike at any count).
      const panels = splitRange(np / 8, Math.min(np / 8, shares.length));
      runOnThreads(simd, pool, {
        fn: 'wino_filter',
        shares: panels.map(([p0, p1]) => [pw, u, a, k, kp, n, np, 8 * p0, Math.min(n, 8 * p1), scratch!]),
        perThread: [0, 0, 0, 0, 0, 0, 0, 0, 0, stride],
      });
    }
    const bp = bias ? heapOffset(backend, bias) : 0;
    const px = heapOffset(backend, x);
    const py = heapOffset(backend, out);
    runOnThreads(simd, pool, {
      fn: 'wino_conv',
      shares: shares.map(([b0, b1]) => [
        px + 4 * b0 * inHeight * inWidth * k,
        u,
        py + 4 * b0 * outHeight * outWidth * n,
        bp,
        activation === 'relu' ? 1 : 0,
        b1 - b0,
        inHeight,
        inWidth,
        k,
        kp,
        outHeight,
        outWidth,
        n,
        np,
        a,
        padInfo.top,
        padInfo.left,
        chunk,
        v!,
        mo!,
        scratch!,
      ]),
      perThread: [...new Array<number>(18).fill(0), stride, stride, stride],
    });
  });
  return out;
}

/**
 * The input gradient of a stride-1 3×3 or 5×5 convolution with `filter`, by Winograd: the convolution
 * of dy with the filter turned 180° and its channels swapped, with borders `pad`; null where the Winograd kernels do not apply or pay.
 */
export function winogradInputGrad(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, pad: ConvAttrs['pad']): TensorInfo | null {
  return winogradConv(backend, dy, filter, undefined, { strides: 1, pad, dataFormat: 'NHWC' }, true);
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
  const { info, a, k, kp, n, chunk } = p;
  const out = backend.makeOutput(filterShape, 'float32');
  winogradCalls.filterGrad += 1;
  const pool = kernelPool(backend);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  // Each thread computes a range of output channels (whole 8-wide panels, `npr` columns with the
  // padding) over every image, so every value is summed over the same tiles in the same order at any
  // thread count. Each thread transforms x's tiles itself: about 60 operations per tile and input
  // channel, against α² multiply-adds per tile, input channel and output channel it owns.
  const panels = Math.ceil(n / 8);
  const ranges = splitRange(panels, Math.min(pool?.threads ?? 1, panels)).map(([p0, p1]) => ({ n0: 8 * p0, n1: Math.min(n, 8 * p1), npr: 8 * (p1 - p0) }));
  const perThread = ranges.flatMap(({ npr }) => [a * a * chunk * kp, a * a * chunk * npr, a * a * kp * npr, SCRATCH_FLOATS]);
  withBuffers(backend, perThread, (bufs) => {
    const px = heapOffset(backend, x);
    const pdy = heapOffset(backend, dy);
    const pdw = heapOffset(backend, out);
    // One share per range, with its own buffers (whichever thread claims it).
    const shares = ranges.map(({ n0, n1, npr }, i) => {
      const [v, wd, acc, scratch] = bufs.slice(4 * i, 4 * i + 4) as [number, number, number, number];
      return [px, pdy + 4 * n0, pdw + 4 * n0, batchSize, inHeight, inWidth, k, kp, outHeight, outWidth, n, n1 - n0, npr, a, padInfo.top, padInfo.left, chunk, v, wd, acc, scratch];
    });
    runOnThreads(simd, pool, { fn: 'wino_filter_grad', shares });
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
