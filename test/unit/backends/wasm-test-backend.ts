import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../../../src/backends/wasm-kernels/index.js';

/** Points tfjs-backend-wasm at its binaries, registers the project kernels and starts `wasm` (tests only). */
export async function startWasm(): Promise<void> {
  const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  setWasmPaths(path.dirname(wasmFile) + path.sep);
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('wasm backend failed to start');
  }
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), so cpu and wasm see identical inputs. */
export function randomValues(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Runs `f` on `cpu` then on `wasm` and returns both results as arrays; leaves `wasm` active. */
export async function onCpuAndWasm(f: () => tf.Tensor): Promise<{ cpu: Float32Array; wasm: Float32Array; shape: number[] }> {
  await tf.setBackend('cpu');
  const c = f();
  const cpu = c.dataSync() as Float32Array;
  c.dispose();
  await tf.setBackend('wasm');
  const w = f();
  const wasm = w.dataSync() as Float32Array;
  const shape = w.shape;
  w.dispose();
  return { cpu, wasm, shape };
}

/** Largest absolute difference, scaled by the larger of 1 and the reference's largest magnitude. */
export function relativeError(reference: Float32Array, actual: Float32Array): number {
  if (reference.length !== actual.length) {
    return Infinity;
  }
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs((reference[i] ?? 0) - (actual[i] ?? 0)));
    scale = Math.max(scale, Math.abs(reference[i] ?? 0));
  }
  return diff / scale;
}

/** LRN's parameters as tfjs names them. */
export interface LrnParams {
  depthRadius: number;
  bias: number;
  alpha: number;
  beta: number;
}

/**
 * LRN and LRNGrad on wasm against cpu for one shape: x drawn with `seed` and scaled by `scale` (so the
 * normaliser is not ≈ k), dy with `seed + 1`; each within 1e-5 relative.
 */
export async function checkLrnAgainstCpu(shape: [number, number, number, number], p: LrnParams, scale: number, seed: number): Promise<{ forward: number; gradient: number }> {
  const n = shape.reduce((a, b) => a * b, 1);
  const xv = randomValues(n, seed).map((v) => v * scale);
  const dyv = randomValues(n, seed + 1);
  const args = [p.depthRadius, p.bias, p.alpha, p.beta] as const;
  const forward = await onCpuAndWasm(() => tf.localResponseNormalization(tf.tensor(xv, shape) as tf.Tensor4D, ...args));
  const { cpu, wasm } = await onCpuAndWasm(() =>
    tf.tidy(() => {
      const x = tf.tensor(xv, shape) as tf.Tensor4D;
      const y = tf.localResponseNormalization(x, ...args);
      return tf.engine().runKernel('LRNGrad', { x, y, dy: tf.tensor(dyv, shape) }, { depthRadius: p.depthRadius, bias: p.bias, alpha: p.alpha, beta: p.beta }) as tf.Tensor;
    }),
  );
  return { forward: relativeError(forward.cpu, forward.wasm), gradient: relativeError(cpu, wasm) };
}
