import { SIMD_KERNELS_SHARED_WASM_BASE64, SIMD_KERNELS_WASM_BASE64 } from './simd-binary.js';
import type { TensorInfo, WasmBackendLike } from './kernel-call.js';
import { KernelPool } from './kernel-pool.js';

/** The functions of simd-kernels.c; pointers are byte offsets into tfjs' wasm heap. */
export interface SimdKernels {
  lrn_forward(x: number, y: number, pixels: number, channels: number, r: number, k: number, alpha: number, scratch: number): void;
  lrn_backward(x: number, y: number, dy: number, dx: number, pixels: number, channels: number, r: number, k: number, alpha: number, scratch: number): void;
  lrn_forward_keep(x: number, y: number, rho: number, pixels: number, channels: number, r: number, k: number, alpha: number, scratch: number): void;
  lrn_backward_kept(x: number, y: number, rho: number, dy: number, dx: number, pixels: number, channels: number, r: number, alpha: number, scratch: number): void;
  sum_rows(x: number, out: number, rows: number, cols: number, acc: number, part: number): void;
  relu_grad_rows(dy: number, y: number, dz: number, rows: number, cols: number, acc: number, part: number): void;
  wino_filter(w: number, u: number, alpha: number, k: number, kp: number, n: number, np: number, n0: number, n1: number, scratch: number): void;
  turn_filter(w: number, out: number, r: number, k: number, n: number): void;
  wino_conv(
    x: number,
    u: number,
    y: number,
    bias: number,
    relu: number,
    batch: number,
    h: number,
    w: number,
    k: number,
    kp: number,
    outH: number,
    outW: number,
    n: number,
    np: number,
    alpha: number,
    padTop: number,
    padLeft: number,
    chunk: number,
    v: number,
    mo: number,
    scratch: number,
  ): void;
  wino_filter_grad(
    x: number,
    dy: number,
    dw: number,
    batch: number,
    h: number,
    w: number,
    k: number,
    kp: number,
    outH: number,
    outW: number,
    n: number,
    nc: number,
    np: number,
    alpha: number,
    padTop: number,
    padLeft: number,
    chunk: number,
    v: number,
    wd: number,
    acc: number,
    scratch: number,
  ): void;
  sgd_update(v: number, g: number, w: number, vOut: number, wOut: number, n: number, momentum: number, lr: number, decay: number): void;
  max_pool_grad(
    x: number,
    dy: number,
    dx: number,
    batch: number,
    inH: number,
    inW: number,
    channels: number,
    outH: number,
    outW: number,
    strideH: number,
    strideW: number,
    filterH: number,
    filterW: number,
    padTop: number,
    padLeft: number,
  ): void;
}

/** The parts of tfjs' wasm backend the SIMD module needs beyond {@link WasmBackendLike}. */
interface WasmBackendInternals {
  /** The single-threaded build exports its memory (asm.memory); the multi-threaded one creates it (wasmMemory). */
  wasm: { asm?: { memory?: unknown }; wasmMemory?: unknown; _malloc(bytes: number): number; _free(ptr: number): void };
  getMemoryOffset(dataId: object): number;
}

/** Compiled once per kind of memory: plain, or shared (the multi-threaded build's). */
const compiled: { plain?: WebAssembly.Module; shared?: WebAssembly.Module } = {};
const instances = new WeakMap<object, SimdKernels | null>();
/** The kernel threads per memory (shared memories only). */
const pools = new WeakMap<object, KernelPool>();
/** Threads the project's kernels split their work over on a shared memory (set with the backend's). */
let kernelThreads = 1;
/** Tests and A/B measurements switch the SIMD kernels off to compare with the JS ones. */
let enabled = true;

export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(base64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) {
    out[i] = bin.charCodeAt(i);
  }
  return out;
}

/**
 * The SIMD kernels instantiated on this backend's own memory (single- or multi-threaded build), or
 * null where that cannot be done (a host without WebAssembly SIMD): callers then run their JS loops.
 */
export function simdKernels(backend: WasmBackendLike): SimdKernels | null {
  if (!enabled) {
    return null;
  }
  const internals = backend as unknown as WasmBackendInternals;
  const memory = internals.wasm?.asm?.memory ?? internals.wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) {
    return null;
  }
  const known = instances.get(memory);
  if (known !== undefined) {
    return known;
  }
  let kernels: SimdKernels | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const module = shared
      ? (compiled.shared ??= new WebAssembly.Module(decode(SIMD_KERNELS_SHARED_WASM_BASE64)))
      : (compiled.plain ??= new WebAssembly.Module(decode(SIMD_KERNELS_WASM_BASE64)));
    kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
  } catch {
    kernels = null;
  }
  instances.set(memory, kernels);
  return kernels;
}

/** Sets how many threads the project's kernels use on the multi-threaded build (1: the caller's only). */
export function setKernelThreads(threads: number): void {
  kernelThreads = Math.max(1, Math.floor(threads));
}

/** How many threads the project's kernels use on this backend now (1 on the single-threaded build). */
export function kernelThreadCount(backend: WasmBackendLike): number {
  return kernelPool(backend)?.threads ?? 1;
}

/**
 * The threads that run the SIMD module on this backend's shared memory, or null with one thread
 * (single-threaded build, threads set to 1, or no SIMD module): callers then make their calls directly.
 */
export function kernelPool(backend: WasmBackendLike): KernelPool | null {
  if (kernelThreads <= 1 || !simdKernels(backend) || !compiled.shared) {
    return null;
  }
  const memory = (backend as unknown as WasmBackendInternals).wasm.wasmMemory as WebAssembly.Memory;
  if (!(memory instanceof WebAssembly.Memory) || !(memory.buffer instanceof SharedArrayBuffer)) {
    return null;
  }
  let pool = pools.get(memory);
  if (pool && pool.threads !== kernelThreads) {
    pool.close();
    pool = undefined;
  }
  if (!pool) {
    pool = new KernelPool(kernelThreads, compiled.shared, memory, simdKernels(backend) as unknown as Record<string, (...args: number[]) => void>);
    pools.set(memory, pool);
  }
  return pool.threads > 1 ? pool : null;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  return (backend as unknown as WasmBackendInternals).getMemoryOffset(t.dataId as object);
}

/** A view of `floats` floats of the wasm heap at byte offset `ptr` (invalid after the heap grows). */
export function heapFloats(backend: WasmBackendLike, ptr: number, floats: number): Float32Array {
  const internals = backend as unknown as WasmBackendInternals;
  const memory = (internals.wasm?.asm?.memory ?? internals.wasm?.wasmMemory) as WebAssembly.Memory;
  return new Float32Array(memory.buffer, ptr, floats);
}

/** Runs `f` with a scratch buffer of `bytes` bytes (8-byte aligned) from tfjs' allocator, freed after. */
export function withScratch<T>(backend: WasmBackendLike, bytes: number, f: (ptr: number) => T): T {
  const wasm = (backend as unknown as WasmBackendInternals).wasm;
  const ptr = wasm._malloc(Math.max(16, bytes)) >>> 0;
  try {
    return f(ptr);
  } finally {
    wasm._free(ptr);
  }
}
