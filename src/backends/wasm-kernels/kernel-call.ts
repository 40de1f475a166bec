import * as tf from '@tensorflow/tfjs';

/** What a kernel function receives and returns (tfjs-core's types, re-stated to stay off its internals). */
export type TensorInfo = tf.TensorInfo;
export type NamedTensorInfoMap = Record<string, TensorInfo>;
export type NamedAttrMap = Record<string, unknown>;
/** The parts of the wasm backend a project kernel needs. */
export interface WasmBackendLike {
  disposeData(dataId: TensorInfo['dataId'], force?: boolean): boolean;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  /** A view of the tensor's bytes in the wasm heap (no copy); invalid after the next allocation may grow the heap. */
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
/** A kernel function as registered with tf.registerKernel. */
export type WasmKernelFunc = (args: { inputs: NamedTensorInfoMap; backend: WasmBackendLike; attrs: NamedAttrMap }) => TensorInfo;

/** Calls the kernel registered for `wasm` under `name` directly, bypassing the engine (no tape, no tracking). */
export function callKernel(name: string, backend: WasmBackendLike, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) {
    throw new Error(`kernel '${name}' is not registered for backend 'wasm'`);
  }
  return (kernel.kernelFunc as unknown as WasmKernelFunc)({ inputs, backend, attrs });
}

/** Frees intermediates produced by {@link callKernel}. */
export function release(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) {
    backend.disposeData(info.dataId);
  }
}
