import * as tf from '@tensorflow/tfjs';
import { batchMatMulWith, fusedMatMulWith } from './batch-mat-mul.js';
import { conv2dBackpropFilter } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputWith } from './conv2d-backprop-input.js';
import { identityWith } from './identity.js';
import type { WasmKernelFunc } from './kernel-call.js';
import { lrn, lrnGrad, lrnTrain, lrnTrainGrad } from './lrn.js';
import { LRN_TRAIN_GRAD_KERNEL, LRN_TRAIN_KERNEL, PAPER_SGD_KERNEL, RELU_BIAS_GRAD_KERNEL } from '../custom-kernels.js';
import { maxPoolGrad } from './max-pool-grad.js';
import { reluBiasGrad } from './relu-bias-grad.js';
import { paperSgdUpdate } from './sgd-update.js';
import { sumWith } from './sum.js';
import { conv2dWith, fusedConv2dWith } from './winograd-conv.js';

export { profileKernels, type KernelTime } from './kernel-profile.js';
export { setSimdKernelsEnabled } from './simd-module.js';
export { enableWasmThreadsInNode } from './node-threads.js';

/** Kernel name → the project's kernel, given the backend's original to delegate the cases it does not cover. */
const FACTORIES: Readonly<Record<string, (original: WasmKernelFunc) => WasmKernelFunc>> = {
  // Missing from tfjs-backend-wasm 4.22: no convolution trains without it.
  Conv2DBackpropFilter: () => conv2dBackpropFilter,
  // Replacements: faster (XNNPACK instead of scalar loops) and, for MaxPoolGrad, correct.
  Conv2DBackpropInput: conv2dBackpropInputWith,
  // 3×3 and 5×5 stride-1 convolutions by Winograd's F(4×4,3×3) / F(4×4,5×5) where that pays.
  Conv2D: conv2dWith,
  FusedConv2D: fusedConv2dWith,
  BatchMatMul: batchMatMulWith,
  _FusedMatMul: fusedMatMulWith,
  MaxPoolGrad: () => maxPoolGrad,
  LRN: () => lrn,
  LRNGrad: () => lrnGrad,
  // Bias gradients (sum over all axes but the last) in one pass instead of transpose + sum.
  Sum: sumWith,
  // The engine's clone of every tensor a gradient keeps: shared, not copied.
  Identity: identityWith,
  // PaperSgd's update of one weight in one pass (a kernel of the project's own; no backend has it).
  [PAPER_SGD_KERNEL]: () => paperSgdUpdate,
  // A convolution's ReLU and bias gradients in one threaded pass (model/forward.ts), instead of Step, Multiply and Sum.
  [RELU_BIAS_GRAD_KERNEL]: () => reluBiasGrad,
  // LRN in training keeping N^−1/4 for its gradient (model/forward.ts), which then needs no square root or division.
  [LRN_TRAIN_KERNEL]: () => lrnTrain,
  [LRN_TRAIN_GRAD_KERNEL]: () => lrnTrainGrad,
};

/** Names of the kernels this module adds to, or replaces in, the wasm backend. */
export const PROJECT_KERNELS: readonly string[] = Object.keys(FACTORIES);

type KernelConfig = NonNullable<ReturnType<typeof tf.getKernel>>;
/** What was registered before the project's kernel replaced it (null: nothing was). */
const originals = new Map<string, KernelConfig | null>();

function missing(name: string): WasmKernelFunc {
  return () => {
    throw new Error(`kernel '${name}' has no wasm implementation for these arguments`);
  };
}

function put(config: KernelConfig | null, name: string): void {
  if (tf.getKernel(name, 'wasm')) {
    tf.unregisterKernel(name, 'wasm');
  }
  if (config) {
    tf.registerKernel(config);
  }
}

/** Registers the project's wasm training kernels (all, or the named ones); idempotent, before or after the backend starts. */
export function registerWasmTrainingKernels(names: readonly string[] = PROJECT_KERNELS): void {
  for (const name of names) {
    const factory = FACTORIES[name];
    if (!factory) {
      throw new Error(`'${name}' is not a project wasm kernel; expected one of ${PROJECT_KERNELS.join(', ')}`);
    }
    if (originals.has(name)) {
      continue;
    }
    const existing = tf.getKernel(name, 'wasm') ?? null;
    originals.set(name, existing);
    const original = existing ? (existing.kernelFunc as unknown as WasmKernelFunc) : missing(name);
    // Keep the original setupFunc: a replaced kernel may still delegate to the original's wasm binding.
    put({ kernelName: name, backendName: 'wasm', kernelFunc: factory(original) as unknown as tf.KernelFunc, setupFunc: existing?.setupFunc }, name);
  }
}

/** Puts back what the backend had before {@link registerWasmTrainingKernels} (for A/B measurements and tests). */
export function restoreWasmKernels(): void {
  for (const [name, config] of originals) {
    put(config, name);
  }
  originals.clear();
}
