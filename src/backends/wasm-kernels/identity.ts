import type { TensorInfo, WasmBackendLike, WasmKernelFunc } from './kernel-call.js';

interface RefCounted {
  incRef(dataId: TensorInfo['dataId']): void;
}

/**
 * Identity that shares the input's data (reference counted, as the backend's Reshape and the cpu
 * backend's Identity do) instead of copying it. The engine clones every tensor a gradient needs
 * through this kernel: about 70 copies of activations per alexnet-small training step. Tensors are
 * immutable, so sharing is safe; strings still go to the backend's kernel.
 */
export function identityWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') {
      return original(args);
    }
    (args.backend as WasmBackendLike & RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
