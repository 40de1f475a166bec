import { callKernel, release, type TensorInfo, type WasmKernelFunc } from './kernel-call.js';

/**
 * Matrix product that reaches XNNPACK for transposed operands too. The backend only takes its
 * XNNPACK path for unbatched, untransposed products and otherwise runs a scalar blocked loop
 * (~20× slower); dense-layer gradients are exactly the transposed case (dy·Wᵀ, xᵀ·dy). A
 * physical transpose costs O(size) against the O(m·n·k) product it speeds up.
 */
export function batchMatMulWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const unbatched = (t: TensorInfo) => t.shape.slice(0, -2).every((d) => d === 1);
    if ((!transposeA && !transposeB) || !unbatched(a) || !unbatched(b)) {
      return original(args);
    }
    const flip = (t: TensorInfo) => {
      const rank = t.shape.length;
      const perm = [...Array(rank).keys()];
      perm[rank - 2] = rank - 1;
      perm[rank - 1] = rank - 2;
      return callKernel('Transpose', backend, { x: t }, { perm });
    };
    const a2 = transposeA ? flip(a) : a;
    const b2 = transposeB ? flip(b) : b;
    const out = original({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    if (transposeA) {
      release(backend, a2);
    }
    if (transposeB) {
      release(backend, b2);
    }
    return out;
  };
}
