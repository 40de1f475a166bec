import * as tf from '@tensorflow/tfjs';
import type { BatchSource } from '../images/batch-source.js';
import { forwardOf, modelForward } from '../model/forward.js';
import { topKHits } from './metrics.js';

/** Loss and top-1/top-5 error over a whole source, plus the per-image probabilities when asked. */
export interface EvaluationResult {
  images: number;
  loss: number;
  top1Error: number;
  top5Error: number;
  /** Row-major [images × classes] probabilities (view-averaged), when `collect` was set. */
  probs?: Float32Array;
  labels?: Int32Array;
  ids?: Int32Array;
  /** Row-major [images × featureDim] activations of `featureLayer` (view-averaged), when it was given. */
  features?: Float32Array;
  featureDim?: number;
}

/**
 * Runs the network in inference mode over one epoch of `source`. Batches with several views per image
 * (the paper's ten-crop) are averaged per image before scoring, as in §4.1 of the paper.
 */
export async function evaluateSource(
  model: tf.LayersModel,
  source: BatchSource,
  numClasses: number,
  options: { collect?: boolean; featureLayer?: string; shouldStop?: () => boolean; onBatch?: (images: number) => void } = {},
): Promise<EvaluationResult> {
  // One pass gives both: the layers up to the feature layer, then the rest to the softmax — run as
  // plain ops on the layers' weights (model/forward.ts), the same fast path as training and classify.
  const at = options.featureLayer ? model.layers.findIndex((l) => l.name === options.featureLayer) : -1;
  if (options.featureLayer && at < 0) {
    throw new Error(`The model has no layer named ${options.featureLayer}.`);
  }
  const head = at >= 0 ? forwardOf(model.layers.slice(0, at + 1)) : modelForward(model);
  const tail = at >= 0 ? forwardOf(model.layers.slice(at + 1)) : null;
  const featureDim = options.featureLayer ? (model.getLayer(options.featureLayer).outputShape as number[]).slice(1).reduce((a, b) => a * b, 1) : 0;
  const featureParts: Float32Array[] = [];
  let images = 0;
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  const probsParts: Float32Array[] = [];
  const labelParts: Int32Array[] = [];
  const idParts: Int32Array[] = [];
  for (let batch = await source.next(); batch; batch = await source.next()) {
    const views = batch.views ?? 1;
    const n = batch.labels.length;
    const [probs, features] = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, batch.shape);
      const h = head(x, false);
      const average = (t: tf.Tensor, width: number): tf.Tensor => (views > 1 ? t.reshape([n, views, width]).mean(1) : t);
      return tail ? [average(tail(h, false), numClasses), average(h.reshape([n * views, featureDim]), featureDim)] : [average(h, numClasses)];
    }) as [tf.Tensor, tf.Tensor?];
    const values = (await probs.data()) as Float32Array;
    probs.dispose();
    if (features) {
      featureParts.push((await features.data()) as Float32Array);
      features.dispose();
    }
    for (let i = 0; i < n; i++) {
      lossSum -= Math.log(Math.max(values[i * numClasses + batch.labels[i]!]!, 1e-12));
    }
    const hits = topKHits(values, batch.labels, numClasses);
    top1 += hits.top1;
    top5 += hits.top5;
    images += n;
    options.onBatch?.(images);
    if (options.collect) {
      probsParts.push(values);
      labelParts.push(batch.labels);
      idParts.push(batch.ids);
    }
    if (options.shouldStop?.()) {
      break;
    }
  }
  const result: EvaluationResult = {
    images,
    loss: images ? lossSum / images : NaN,
    top1Error: images ? 1 - top1 / images : NaN,
    top5Error: images ? 1 - top5 / images : NaN,
  };
  if (options.collect) {
    result.probs = concatFloat(probsParts);
    result.labels = concatInt(labelParts);
    result.ids = concatInt(idParts);
  }
  if (options.featureLayer) {
    result.features = concatFloat(featureParts);
    result.featureDim = featureDim;
  }
  return result;
}

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatInt(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Rows [n × dim] times the fixed random projection (features.ts), in chunks on the active backend. */
export function projectRows(values: Float32Array, dim: number, projection: Float32Array, outDim: number): Float32Array {
  const rows = values.length / dim;
  const out = new Float32Array(rows * outDim);
  const r = tf.tensor2d(projection, [dim, outDim]);
  try {
    for (let start = 0; start < rows; start += 2048) {
      const n = Math.min(2048, rows - start);
      const part = tf.tidy(() => tf.matMul(tf.tensor2d(values.subarray(start * dim, (start + n) * dim), [n, dim]), r));
      out.set(part.dataSync() as Float32Array, start * outDim);
      part.dispose();
    }
  } finally {
    r.dispose();
  }
  return out;
}
