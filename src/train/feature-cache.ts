// The fast head's input: the frozen backbone's last hidden layer (fc7, 4096-d for AlexNet) computed once per
// image view, kept as one float table, so that training the last layer never runs the convolutions again.
import * as tf from '@tensorflow/tfjs';
import type { BatchSource } from '../images/batch-source.js';
import { forwardOf } from '../model/forward.js';
import { nextTask } from './next-task.js';

/** Features of a set of image views: `rows` rows of `dim` floats, one label per row; `views` consecutive rows per image. */
export interface FeatureTable {
  values: Float32Array;
  labels: Int32Array;
  rows: number;
  dim: number;
  views: number;
}

/**
 * Runs every batch of `source` through all layers but the last (inference mode: no dropout) and keeps the outputs.
 * `passes` > 1 reads that many epochs of the source (each another draw of crops, flips and lighting): a few
 * augmented views per image. Ten-crop batches keep their views as consecutive rows.
 */
export async function extractFeatures(
  model: tf.LayersModel,
  source: BatchSource,
  passes: number,
  onProgress?: (done: number, total: number) => void,
): Promise<FeatureTable> {
  const trunk = forwardOf(model.layers.slice(0, -1));
  const dim = (model.layers[model.layers.length - 2]!.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1);
  const parts: Float32Array[] = [];
  const labelParts: Int32Array[] = [];
  let views = 1;
  let rows = 0;
  const total = passes * source.batchesPerEpoch;
  let done = 0;
  for (let pass = 0; pass < passes; pass++) {
    source.seek?.(pass, 0);
    for (let batch = await source.next(); batch; batch = await source.next()) {
      views = batch.views ?? 1;
      const h = tf.tidy(() => trunk(tf.tensor4d(batch.x, batch.shape), false).reshape([-1, dim]));
      parts.push((await h.data()) as Float32Array);
      h.dispose();
      const labels = new Int32Array(batch.labels.length * views);
      batch.labels.forEach((label, i) => labels.fill(label, i * views, (i + 1) * views));
      labelParts.push(labels);
      rows += labels.length;
      onProgress?.(++done, total);
      await nextTask();
    }
  }
  const values = new Float32Array(rows * dim);
  const labels = new Int32Array(rows);
  let at = 0;
  parts.forEach((p, i) => {
    values.set(p, at * dim);
    labels.set(labelParts[i]!, at);
    at += labelParts[i]!.length;
  });
  return { values, labels, rows, dim, views };
}

/** Rows `indices` of a table as one [n, dim] tensor and their labels. */
export function gatherRows(table: FeatureTable, indices: ArrayLike<number>): { x: tf.Tensor2D; labels: Int32Array } {
  const n = indices.length;
  const x = new Float32Array(n * table.dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i]!;
    x.set(table.values.subarray(r * table.dim, (r + 1) * table.dim), i * table.dim);
    labels[i] = table.labels[r]!;
  }
  return { x: tf.tensor2d(x, [n, table.dim]), labels };
}
