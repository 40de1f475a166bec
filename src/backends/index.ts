import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BackendChoice, BackendName, BackendProbe } from '../api/app.js';
import { ApiError } from '../api/errors.js';
import { tf, wasmBinaryDir } from './tf.js';
import { registerCpuTrainingKernels } from './cpu-kernels.js';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { enableWasmThreadsInNode, withCoresForThreads } from './wasm-kernels/node-threads.js';
import { setKernelThreads } from './wasm-kernels/simd-module.js';

/** A backend preference as a user states it. */
export type BackendPreference = 'auto' | BackendName;

/** Order `auto` tries in Node: native TensorFlow (CUDA first), then wasm, then plain JS. */
const AUTO_ORDER: NodeBackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Backends that train in a Node worker. */
export type NodeBackendName = Exclude<BackendName, ComputeBackendName>;

/** Backends that train only in a browser engine (the desktop app's compute window). */
export type ComputeBackendName = 'webgpu' | 'webgl';

/** True for webgpu/webgl, which Node cannot run. */
export function isComputeBackend(name: string): name is ComputeBackendName {
  return name === 'webgpu' || name === 'webgl';
}

/** The optional native packages, GPU build first. */
const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

interface TensorflowLoad {
  provider: (typeof TENSORFLOW_PACKAGES)[number] | null;
  reason: string;
}

let tensorflowLoad: Promise<TensorflowLoad> | null = null;

/** Tries to load tfjs-node-gpu, then tfjs-node, once per process; never throws. */
export function loadTensorflow(): Promise<TensorflowLoad> {
  tensorflowLoad ??= (async () => {
    const failures: string[] = [];
    for (const pkg of TENSORFLOW_PACKAGES) {
      try {
        await import(pkg);
        if (tf.findBackend('tensorflow')) {
          return { provider: pkg, reason: `${pkg} loaded` };
        }
        failures.push(`${pkg} loaded but registered no backend`);
      } catch (err) {
        failures.push(`${pkg}: ${shortLoadError(err)}`);
      }
    }
    const allAbsent = failures.every((f) => f.endsWith(NOT_INSTALLED));
    return {
      provider: null,
      reason: allAbsent
        ? `native TensorFlow not installed: ${TENSORFLOW_PACKAGES.join(' and ')} are optional; their install downloads libtensorflow and needs network access`
        : `native TensorFlow not loadable (${failures.join('; ')})`,
    };
  })();
  return tensorflowLoad;
}

const NOT_INSTALLED = 'not installed';

function shortLoadError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    return NOT_INSTALLED;
  }
  return (e?.message ?? String(err)).split('\n')[0]!.slice(0, 200);
}

/** The most threads a run may ask for. */
export const MAX_THREADS = 256;

/**
 * The threads the wasm backend computes with: the caller's number, else $CONVNET_THREADS, else every
 * core of this machine. Throws a clear message for a number that is not a whole number from 1 to 256.
 */
export function resolveThreads(requested?: number | null): number {
  const env = process.env.CONVNET_THREADS?.trim();
  const value = requested ?? (env ? Number(env) : os.availableParallelism());
  if (!Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    const from = requested == null && env ? `CONVNET_THREADS=${env}` : `threads ${String(requested)}`;
    throw new ApiError('bad_request', `${from}: expected a whole number of threads from 1 to ${MAX_THREADS}`);
  }
  return value;
}

/** Threads the wasm backend of this thread was started with (it cannot change them afterwards). */
let wasmThreads: number | null = null;

/** Whether this runtime can run WebAssembly SIMD (all current Node, Electron and Chromium can). */
function wasmSimdSupported(): boolean {
  const wasm = (globalThis as unknown as { WebAssembly: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
  // The smallest module that uses a v128 instruction; validate() is false where SIMD is absent.
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
  return wasm.validate(bytes);
}

/** Probes one backend without switching to it (webgpu/webgl: unavailable in Node, with the reason). */
export async function probeBackend(name: BackendName, threads?: number | null): Promise<BackendProbe> {
  switch (name) {
    case 'webgpu':
    case 'webgl':
      return {
        name,
        available: false,
        provider: null,
        reason: `${name} runs in a browser engine: the desktop app trains with it in a hidden compute window; Node (browser mode's server, the CLI) cannot`,
        device: null,
        threads: null,
      };
    case 'tensorflow': {
      const load = await loadTensorflow();
      const gpu = load.provider === '@tensorflow/tfjs-node-gpu';
      return {
        name,
        available: load.provider !== null,
        provider: load.provider,
        reason: load.reason,
        device: load.provider ? (gpu ? 'CUDA GPU (libtensorflow)' : `CPU (libtensorflow, ${os.cpus().length} cores)`) : null,
        threads: load.provider ? os.cpus().length : null,
      };
    }
    case 'wasm': {
      const dir = wasmBinaryDir();
      const simd = wasmSimdSupported();
      const file = simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
      const present = fs.existsSync(path.join(dir, file));
      return {
        name,
        available: present,
        provider: present ? `tfjs-backend-wasm (${simd ? 'simd' : 'no simd'})` : null,
        reason: present ? `WebAssembly${simd ? ' with SIMD' : ''}, XNNPACK kernels` : `${file} missing from ${dir}`,
        device: present ? `CPU (${os.cpus()[0]?.model.trim() ?? 'unknown'})` : null,
        threads: present ? (wasmThreads ?? resolveThreads(threads)) : null,
      };
    }
    case 'cpu':
      return { name, available: true, provider: '@tensorflow/tfjs-backend-cpu', reason: 'plain JavaScript; always available, slowest', device: 'CPU (JavaScript)', threads: 1 };
  }
}

/** Probes every Node backend, in the order `auto` prefers them. */
export function probeBackends(threads?: number | null): Promise<BackendProbe[]> {
  return Promise.all(AUTO_ORDER.map((name) => probeBackend(name, threads)));
}

/** Chooses the backend a run would use for a preference, and says why; does not switch to it. */
export async function chooseBackend(preference: BackendPreference = 'auto', threads?: number | null): Promise<BackendChoice> {
  const probes = await probeBackends(threads);
  const pick = (probe: BackendProbe, reason: string): BackendChoice => ({
    name: probe.name,
    provider: probe.provider,
    device: probe.device,
    threads: probe.threads,
    reason,
    probes,
  });
  const skipped: string[] = [];
  if (isComputeBackend(preference)) {
    // Only evaluation and classification get here (runs on webgpu go to the compute window): they run in Node.
    skipped.push((await probeBackend(preference)).reason);
  } else if (preference !== 'auto') {
    const probe = probes.find((p) => p.name === preference)!;
    if (!probe.available) {
      throw new ApiError('unavailable', `The ${preference} backend is not available: ${probe.reason}`);
    }
    return pick(probe, `chosen by the user; ${probe.reason}`);
  }
  for (const probe of probes) {
    if (probe.available) {
      const why = skipped.length ? `${skipped.join('; ')}; using ${probe.name}: ${probe.reason}` : probe.reason;
      return pick(probe, why);
    }
    skipped.push(`${probe.name} unavailable: ${probe.reason}`);
  }
  throw new ApiError('unavailable', 'No compute backend is available.');
}

/**
 * Switches this thread's tfjs to a chosen backend and waits until it is ready; returns the active name.
 * wasm computes with `threads` (see {@link resolveThreads}) from its first start in this thread on.
 */
export async function activateBackend(name: BackendName, threads?: number | null): Promise<BackendName> {
  if (isComputeBackend(name)) {
    throw new ApiError('unavailable', (await probeBackend(name)).reason);
  }
  if (name === 'tensorflow') {
    const load = await loadTensorflow();
    if (!load.provider) {
      throw new ApiError('unavailable', `The tensorflow backend is not available: ${load.reason}`);
    }
  }
  if (name === 'cpu') {
    // tfjs' JavaScript filter gradient is element-by-element; the project's is a convolution.
    registerCpuTrainingKernels();
  }
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // tfjs' wasm backend lacks some gradient kernels; the project's own make training possible there.
    registerWasmTrainingKernels();
    if (tf.getBackend() !== 'wasm' && !wasmPathsSet) {
      wasm.setWasmPaths(wasmBinaryDir());
      wasmPathsSet = true;
    }
  }
  let start = () => tf.setBackend(name);
  if (name === 'wasm' && wasmThreads === null) {
    const n = resolveThreads(threads);
    wasmThreads = n;
    setKernelThreads(n);
    if (n > 1) {
      // The multi-threaded build: XNNPACK's pool and the project's kernel threads share its memory.
      enableWasmThreadsInNode(n);
      start = () => withCoresForThreads(n, () => tf.setBackend(name));
    }
  }
  const ok = await start();
  if (!ok) {
    throw new ApiError('unavailable', `The ${name} backend failed to initialise.`);
  }
  await tf.ready();
  return tf.getBackend() as BackendName;
}

let wasmPathsSet = false;
