import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputWith } from './conv2d-backprop-input.js';
import type { WasmKernelFunc } from './kernel-call.js';

/** Kernel name → factory of the project's kernel, given the backend's original (if any) to delegate the cases it does not cover. */
const FACTORIES: Readonly<Record<string, (original: WasmKernelFunc) => WasmKernelFunc>> = {
  Conv2DBackpropFilter: () => conv2dBackpropFilter,
  Conv2DBackpropInput: conv2dBackpropInputWith,
};

/** Names of the kernels this module adds to, or replaces in, the wasm backend. */
export const PROJECT_KERNELS: readonly string[] = Object.keys(FACTORIES);

const registered = new Set<unknown>();

function missing(name: string): WasmKernelFunc {
  return () => {
    throw new Error(`kernel '${name}' has no wasm implementation for these arguments`);
  };
}

/** Registers the project's wasm training kernels; safe to call more than once, before or after the backend starts. */
export function registerWasmTrainingKernels(): void {
  for (const [kernelName, factory] of Object.entries(FACTORIES)) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (existing && registered.has(existing.kernelFunc)) {
      continue;
    }
    const original = existing ? (existing.kernelFunc as unknown as WasmKernelFunc) : missing(kernelName);
    const kernelFunc = factory(original);
    registered.add(kernelFunc);
    if (existing) {
      tf.unregisterKernel(kernelName, 'wasm');
    }
    // Keep the original setupFunc: a replaced kernel may still delegate to the original's wasm binding.
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      ...(existing?.setupFunc ? { setupFunc: existing.setupFunc } : {}),
    });
  }
}
