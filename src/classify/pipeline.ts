import { stat } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import type { ClassifiedImage, ClassifyError, ClassifyTiming } from '../api/classify.js';
import { probeImage, describeReadError } from '../datasets/image-probe.js';
import { centerView, tenCropViews, writeViewFloat, type View } from '../images/augment.js';
import { decodeSquare } from '../images/decode.js';
import { modelForward } from '../model/forward.js';
import type { ClassifierSpec } from './spec.js';

/** A network ready to classify, with the rule its inputs follow. */
export interface Classifier {
  model: tf.LayersModel;
  spec: ClassifierSpec;
}

/** One file decoded to the network's resize size, or the reason it could not be. */
export type DecodedFile = { ok: true; pixels: Uint8Array } | { ok: false; error: ClassifyError };

/**
 * Decodes one file exactly as the training cache does (decodeSquare at the resize size). Files the importer
 * would refuse (empty, not an image, corrupt or truncated) fail with the importer's reason.
 */
export async function decodeFile(file: string, resizeSize: number): Promise<DecodedFile> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) {
      return { ok: false, error: { path: file, kind: 'unreadable', reason: 'not a regular file' } };
    }
    size = info.size;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'unreadable' as const, reason: 'unreadable: no such file' } : describeReadError(err);
    return { ok: false, error: { path: file, kind: why.kind, reason: why.reason } };
  }
  const probe = await probeImage(file, size);
  if (!probe.ok) {
    return { ok: false, error: { path: file, kind: probe.kind, reason: probe.reason } };
  }
  try {
    return { ok: true, pixels: await decodeSquare(file, resizeSize) };
  } catch (err) {
    return { ok: false, error: { path: file, kind: 'corrupt', reason: `could not be decoded: ${(err as Error).message.split('\n')[0]}` } };
  }
}

/** The views the network sees of one decoded image: the centre crop, or the paper's ten (TEN_CROP_ORDER). */
export function classifyViews(spec: ClassifierSpec, tenCrop: boolean): View[] {
  const r = spec.resizeSize;
  return tenCrop ? tenCropViews(r, r, spec.inputSize) : [centerView(r, r, spec.inputSize)];
}

/** Float32 NHWC network input for decoded images: every view of image 0, then of image 1, … normalised like training. */
export function inputBatch(spec: ClassifierSpec, images: Uint8Array[], views: View[]): Float32Array {
  const n = spec.inputSize;
  const viewValues = n * n * 3;
  const x = new Float32Array(images.length * views.length * viewValues);
  const zero = [0, 0, 0];
  images.forEach((pixels, i) =>
    views.forEach((view, v) => writeViewFloat(pixels, 0, spec.resizeSize, view, n, zero, spec.norm, x, (i * views.length + v) * viewValues)),
  );
  return x;
}

/** Softmax rows [images × classes] for a network input of `images × views` views (view-averaged, as in §4.1 of the paper). */
export async function predictProbabilities(classifier: Classifier, x: Float32Array, images: number, views: number): Promise<Float32Array> {
  const n = classifier.spec.inputSize;
  const classes = classifier.spec.classes.length;
  const probs = tf.tidy(() => {
    // The whole batch in one pass of plain ops on the model's weights (fused conv + bias + ReLU), without
    // predict's per-layer bookkeeping and its split into batches of 32.
    const p = modelForward(classifier.model)(tf.tensor4d(x, [images * views, n, n, 3]), false) as tf.Tensor2D;
    if (p.shape.length !== 2 || p.shape[0] !== images * views || p.shape[1] !== classes) {
      // Rows sliced at a stride other than the network's own would hand each image another image's scores.
      throw new Error(`The network answered ${JSON.stringify(p.shape)} for ${images * views} views of ${classes} classes; refusing to guess which scores belong to which image.`);
    }
    return views > 1 ? p.reshape([images, views, classes]).mean(1) : p;
  });
  try {
    return (await probs.data()) as Float32Array;
  } finally {
    probs.dispose();
  }
}

/** The k most probable classes of one row, most probable first (ties: lower index first). */
export function topPredictions(row: ArrayLike<number>, classes: string[], k: number): ClassifiedImage['predictions'] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, Math.min(k, row.length)).map((i) => ({ label: classes[i]!, probability: row[i]! }));
}

/** What classifyFiles reports after each batch. */
export interface BatchReport {
  items: ClassifiedImage[];
  errors: ClassifyError[];
  /** Full probability rows of `items`, in the same order. */
  probabilities: Float32Array[];
}

export interface ClassifyFilesOptions {
  topK: number;
  tenCrop: boolean;
  /** Images per network call (default 32, or 8 under ten-crop: 80 views). */
  batchSize?: number;
  /** Checked between batches; true ends the run early. */
  shouldStop?: () => boolean;
}

/**
 * Classifies files in input order, batch by batch: the next batch decodes (libvips threads) while the
 * network runs on this one. Bad files become errors; the rest are classified.
 */
export async function classifyFiles(
  classifier: Classifier,
  files: readonly string[],
  options: ClassifyFilesOptions,
  onBatch: (report: BatchReport) => void,
): Promise<ClassifyTiming> {
  const start = performance.now();
  const batchSize = options.batchSize ?? (options.tenCrop ? 8 : 32);
  const views = classifyViews(classifier.spec, options.tenCrop);
  const classes = classifier.spec.classes;
  let decodeMs = 0;
  let predictMs = 0;
  let classified = 0;
  const pending: Array<Promise<DecodedFile>> = [];
  let next = 0;
  const fill = (): void => {
    while (next < files.length && pending.length < 2 * batchSize) {
      pending.push(decodeFile(files[next++]!, classifier.spec.resizeSize));
    }
  };
  fill();
  for (let offset = 0; pending.length > 0; offset += batchSize) {
    const batchFiles = files.slice(offset, offset + batchSize);
    const waiting = pending.splice(0, batchFiles.length);
    fill();
    const t0 = performance.now();
    const decoded = await Promise.all(waiting);
    const t1 = performance.now();
    decodeMs += t1 - t0;
    const good = decoded.flatMap((d, i) => (d.ok ? [{ path: batchFiles[i]!, pixels: d.pixels }] : []));
    const errors = decoded.flatMap((d) => (d.ok ? [] : [d.error]));
    const report: BatchReport = { items: [], errors, probabilities: [] };
    if (good.length > 0) {
      const x = inputBatch(classifier.spec, good.map((g) => g.pixels), views);
      const probs = await predictProbabilities(classifier, x, good.length, views.length);
      good.forEach((g, i) => {
        const row = probs.slice(i * classes.length, (i + 1) * classes.length);
        report.items.push({ path: g.path, predictions: topPredictions(row, classes, options.topK) });
        report.probabilities.push(row);
      });
      classified += good.length;
    }
    predictMs += performance.now() - t1;
    onBatch(report);
    if (options.shouldStop?.()) {
      break;
    }
  }
  const totalMs = performance.now() - start;
  return { totalMs, decodeMs, predictMs, msPerImage: classified ? totalMs / classified : 0, views: classified * views.length };
}
