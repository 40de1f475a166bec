// The plain-JavaScript `cpu` backend's filter gradient: tfjs' own Conv2DBackpropFilter there reads and
// writes element by element through TensorBuffer (about 2 M MAC/s: tens of seconds per image for
// alexnet-small), so the project computes it as one of the backend's own (typed-array) convolutions
// of transposed tensors — the same formulation as the wasm kernel.
import * as tf from '@tensorflow/tfjs';
import { filterGradAsConv } from './wasm-kernels/conv2d-backprop-filter.js';
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from './wasm-kernels/kernel-call.js';

type CpuKernelFunc = (args: { inputs: NamedTensorInfoMap; backend: { disposeIntermediateTensorInfo(info: TensorInfo): void }; attrs: NamedAttrMap }) => TensorInfo;

let original: tf.KernelConfig | null = null;

/** Calls the kernel registered for `cpu` under `name` directly. */
function cpuKernel(name: string): CpuKernelFunc {
  const k = tf.getKernel(name, 'cpu');
  if (!k) {
    throw new Error(`kernel '${name}' is not registered for backend 'cpu'`);
  }
  return k.kernelFunc as unknown as CpuKernelFunc;
}

/** Replaces the cpu backend's Conv2DBackpropFilter with the project's (once per thread). */
export function registerCpuTrainingKernels(): void {
  if (original) {
    return;
  }
  original = tf.getKernel('Conv2DBackpropFilter', 'cpu') ?? null;
  if (!original) {
    throw new Error("the cpu backend has no Conv2DBackpropFilter to replace");
  }
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'cpu',
    kernelFunc: (({ inputs, backend, attrs }: Parameters<CpuKernelFunc>[0]) =>
      filterGradAsConv(
        inputs.x as TensorInfo,
        inputs.dy as TensorInfo,
        attrs,
        (name, i, a) => cpuKernel(name)({ inputs: i, backend, attrs: a }),
        (...infos) => infos.forEach((info) => backend.disposeIntermediateTensorInfo(info)),
      )) as unknown as tf.KernelFunc,
  });
}

/** Puts tfjs' own kernel back (tests compare against it). */
export function restoreCpuKernels(): void {
  if (original) {
    tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
    tf.registerKernel(original);
    original = null;
  }
}
