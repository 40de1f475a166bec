// A numerical self-check of every op AlexNet trains with: forward and gradient on a GPU backend
// against tfjs' reference `cpu` backend, on the same inputs. GPU drivers do get kernels wrong; a run
// can check before it trusts one. Pure tfjs (runs in a compute page; also in Node for cpu-vs-wasm).
import * as tf from '@tensorflow/tfjs';
import { groupedConv2d } from '../model/grouped-conv2d.js';

/** One op's comparison: the largest difference relative to the reference's scale, forward and per gradient. */
export interface OpCheck {
  op: string;
  forward: number;
  gradients: number[];
  ok: boolean;
  /** Set when the op threw on the backend under test. */
  error?: string;
}

interface OpCase {
  op: string;
  inputs: Array<{ shape: number[]; seed: number }>;
  /** The computation; a scalar loss is made from its output to take gradients against every input. */
  f: (...xs: tf.Tensor[]) => tf.Tensor;
  /** Only compare shapes (random ops). */
  shapeOnly?: boolean;
}

const CASES: OpCase[] = [
  { op: 'conv2d 11×11 stride 4 valid + relu', inputs: [{ shape: [2, 35, 35, 3], seed: 1 }, { shape: [11, 11, 3, 8], seed: 2 }], f: (x, w) => tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 4, 'valid')) },
  { op: 'conv2d 5×5 stride 1 same', inputs: [{ shape: [2, 9, 9, 4], seed: 3 }, { shape: [5, 5, 4, 6], seed: 4 }], f: (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same') },
  {
    op: 'grouped conv 3×3 groups 2 + bias + relu',
    inputs: [{ shape: [2, 7, 7, 8], seed: 5 }, { shape: [3, 3, 4, 6], seed: 6 }, { shape: [6], seed: 7 }],
    f: (x, w, b) => groupedConv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, { groups: 2, strides: 1, padding: 'same', activation: 'relu' }),
  },
  { op: 'maxPool 3×3 stride 2', inputs: [{ shape: [2, 9, 9, 4], seed: 8 }], f: (x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'valid') },
  { op: 'LRN (k=2, n=5, α=1e-4, β=0.75)', inputs: [{ shape: [2, 5, 5, 12], seed: 9 }], f: (x) => tf.localResponseNormalization(tf.mul(x, 20) as tf.Tensor4D, 2, 2, 1e-4, 0.75) },
  { op: 'relu', inputs: [{ shape: [4, 33], seed: 10 }], f: (x) => tf.relu(x) },
  { op: 'dense (matMul + bias)', inputs: [{ shape: [4, 40], seed: 11 }, { shape: [40, 12], seed: 12 }, { shape: [12], seed: 13 }], f: (x, w, b) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b) },
  {
    op: 'softmax cross-entropy',
    inputs: [{ shape: [6, 5], seed: 14 }],
    f: (logits) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5), tf.mul(logits, 3)),
  },
  { op: 'dropout 0.5 (training mode, shape only)', inputs: [{ shape: [4, 16], seed: 15 }], f: (x) => tf.dropout(x, 0.5), shapeOnly: true },
];

/** Deterministic values in [-1, 1) for an input. */
function values(shape: number[], seed: number): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Output values and gradients (of Σ output·weights, weights fixed) of one case on the active backend. */
async function evaluateCase(c: OpCase): Promise<{ shape: number[]; y: Float32Array; grads: Float32Array[] }> {
  const xs = c.inputs.map((i) => tf.tensor(values(i.shape, i.seed), i.shape));
  try {
    const y = tf.tidy(() => c.f(...xs));
    const shape = y.shape.slice();
    const yv = (await y.data()) as Float32Array;
    y.dispose();
    if (c.shapeOnly) {
      return { shape, y: yv, grads: [] };
    }
    const weights = tf.tensor(values(shape.length ? shape : [1], 99), shape);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.f(...args), weights)))(xs);
    const gv = await Promise.all(grads.map(async (g) => Float32Array.from(await g.data())));
    tf.dispose([weights, ...grads]);
    return { shape, y: Float32Array.from(yv), grads: gv };
  } finally {
    tf.dispose(xs);
  }
}

/** Largest |a − b| over the reference's largest magnitude (or 1 when that is below 1). */
function relativeError(a: Float32Array, ref: Float32Array): number {
  if (a.length !== ref.length) {
    return Infinity;
  }
  let scale = 1;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  for (let i = 0; i < ref.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - ref[i]!));
  }
  return Number.isFinite(worst) ? worst / scale : Infinity;
}

/** Runs every AlexNet op forward and backward on `backend` and on `cpu`; leaves `backend` active. */
export async function checkTrainingOps(backend: string, tolerance = 1e-3): Promise<OpCheck[]> {
  const results: OpCheck[] = [];
  for (const c of CASES) {
    await tf.setBackend('cpu');
    const ref = await evaluateCase(c);
    await tf.setBackend(backend);
    try {
      const got = await evaluateCase(c);
      const sameShape = got.shape.join('x') === ref.shape.join('x');
      const forward = c.shapeOnly ? (sameShape ? 0 : Infinity) : sameShape ? relativeError(got.y, ref.y) : Infinity;
      const gradients = ref.grads.map((g, i) => relativeError(got.grads[i] ?? new Float32Array(), g));
      results.push({ op: c.op, forward, gradients, ok: forward <= tolerance && gradients.every((e) => e <= tolerance) });
    } catch (err) {
      results.push({ op: c.op, forward: Infinity, gradients: [], ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  await tf.setBackend(backend);
  return results;
}
