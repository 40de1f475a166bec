import { callKernel, release, type TensorInfo, type WasmBackendLike, type WasmKernelFunc } from './kernel-call.js';

const size = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
/** XNNPACK packing a right-hand operand costs about this many transposes of it (measured: ~45 vs ~4.5 ns per element). */
const PACK_COST = 10;
/**
 * Right-hand operands already seen untransposed. XNNPACK caches its packed copy per operand, so a
 * matrix multiplied again (inference: same weights, many batches) goes the direct way and is
 * packed once; one seen only once (training: new weights each step) is not worth packing.
 */
const seen = new WeakSet<object>();

function swapLastTwo(backend: WasmBackendLike, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const perm = [...Array(rank).keys()];
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return callKernel('Transpose', backend, { x: t }, { perm });
}

/**
 * op(A)·op(B) through the backend's untransposed (XNNPACK) product `plain`, either directly or
 * as (op(B)ᵀ·op(A)ᵀ)ᵀ, whichever moves fewer elements. XNNPACK packs its right operand on first
 * use; in training every weight is new each step, so the forward x·W of a 9216×4096 layer costs
 * ~1.7 s of packing directly and ~0.2 s of transposes the other way round.
 */
function product(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, plain: (a: TensorInfo, b: TensorInfo) => TensorInfo): TensorInfo {
  const rows = a.shape[a.shape.length - (transposeA ? 1 : 2)] as number;
  const cols = b.shape[b.shape.length - (transposeB ? 2 : 1)] as number;
  const reused = !transposeB && seen.has(b.dataId);
  if (!transposeB) {
    seen.add(b.dataId);
  }
  const packB = reused ? 0 : PACK_COST * size(b);
  const direct = (transposeA ? size(a) : 0) + (transposeB ? size(b) : 0) + packB;
  const swapped = (transposeB ? 0 : size(b)) + (transposeA ? 0 : size(a)) + PACK_COST * size(a) + rows * cols;
  const temps: TensorInfo[] = [];
  const temp = (t: TensorInfo) => (temps.push(t), t);
  let out: TensorInfo;
  if (direct <= swapped) {
    const b2 = transposeB ? temp(swapLastTwo(backend, b)) : b;
    out = plain(transposeA ? temp(swapLastTwo(backend, a)) : a, b2);
  } else {
    const x = transposeB ? b : temp(swapLastTwo(backend, b));
    const y = transposeA ? a : temp(swapLastTwo(backend, a));
    out = swapLastTwo(backend, temp(plain(x, y)));
  }
  release(backend, ...temps);
  return out;
}

const unbatched = (t: TensorInfo) => t.shape.slice(0, -2).every((d) => d === 1);

/**
 * Matrix product that always reaches XNNPACK and avoids repacking new weights. The backend takes
 * XNNPACK only for unbatched, untransposed products and otherwise runs a scalar loop (~10× slower);
 * dense-layer gradients are exactly the transposed case (dy·Wᵀ, xᵀ·dy).
 */
export function batchMatMulWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!unbatched(a) || !unbatched(b)) {
      return original(args);
    }
    const plainAttrs = { ...attrs, transposeA: false, transposeB: false };
    return product(backend, a, b, transposeA, transposeB, (x, y) => original({ inputs: { a: x, b: y }, backend, attrs: plainAttrs }));
  };
}

/**
 * Dense-layer forward (matmul + bias + ReLU/linear) through {@link batchMatMulWith}'s product,
 * so that a new weight matrix is not repacked; other activations go to the backend's kernel.
 */
export function fusedMatMulWith(original: WasmKernelFunc): WasmKernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a as TensorInfo;
    const b = inputs.b as TensorInfo;
    const bias = inputs.bias as TensorInfo | undefined;
    const { transposeA, transposeB, activation } = attrs as { transposeA: boolean; transposeB: boolean; activation: string };
    if (!unbatched(a) || !unbatched(b) || inputs.preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) {
      return original(args);
    }
    const plainAttrs = { ...attrs, transposeA: false, transposeB: false, activation: 'linear' };
    let out = product(backend, a, b, transposeA, transposeB, (x, y) => original({ inputs: { a: x, b: y }, backend, attrs: plainAttrs }));
    if (bias) {
      const sum = callKernel('Add', backend, { a: out, b: bias });
      release(backend, out);
      out = sum;
    }
    if (activation === 'relu') {
      const relu = callKernel('Relu', backend, { x: out });
      release(backend, out);
      out = relu;
    }
    return out;
  };
}
