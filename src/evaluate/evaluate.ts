import * as tf from '@tensorflow/tfjs';
import type { BatchSource } from '../images/batch-source.js';
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
}

/**
 * Runs the network in inference mode over one epoch of `source`. Batches with several views per image
 * (the paper's ten-crop) are averaged per image before scoring, as in §4.1 of the paper.
 */
export async function evaluateSource(
  model: tf.LayersModel,
  source: BatchSource,
  numClasses: number,
  options: { collect?: boolean; shouldStop?: () => boolean } = {},
): Promise<EvaluationResult> {
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
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, batch.shape);
      const p = model.predict(x) as tf.Tensor2D;
      return views > 1 ? p.reshape([n, views, numClasses]).mean(1) : p;
    });
    const values = (await probs.data()) as Float32Array;
    probs.dispose();
    for (let i = 0; i < n; i++) {
      lossSum -= Math.log(Math.max(values[i * numClasses + batch.labels[i]!]!, 1e-12));
    }
    const hits = topKHits(values, batch.labels, numClasses);
    top1 += hits.top1;
    top5 += hits.top5;
    images += n;
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
