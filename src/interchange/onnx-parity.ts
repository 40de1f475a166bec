// The other side of an ONNX export's parity check: the file as another program would use it. Its metadata
// gives the preprocessing and labels; ONNX Runtime (CPU) runs the graph on images decoded by our decoder.
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { ClassifierSpec } from '../classify/spec.js';
import { classifyViews, decodeFile, inputBatch } from '../classify/pipeline.js';
import { ONNX_INPUT, ONNX_OUTPUT } from './onnx-graph.js';
import { decodeOnnxModel, type OnnxModel } from './onnx-proto.js';

/** One image's probabilities from ONNX Runtime, or why it could not be read. */
export type OnnxLine = { path: string; probabilities: number[] } | { path: string; error: string };

/** The labels, input size, resize size and normalisation written in a model's `convnet.*` metadata. */
export function specFromOnnxMetadata(model: OnnxModel): ClassifierSpec {
  const meta = new Map((model.metadataProps ?? []).map((e) => [e.key, e.value]));
  const labels = meta.get('convnet.labels');
  const pre = meta.get('convnet.preprocessing');
  if (!labels || !pre) {
    throw new Error('The ONNX file has no convnet.labels / convnet.preprocessing metadata.');
  }
  const p = JSON.parse(pre) as { resizeSize: number; inputSize: number; mean: [number, number, number]; std: [number, number, number] | null };
  return {
    classes: JSON.parse(labels) as string[],
    inputSize: p.inputSize,
    resizeSize: p.resizeSize,
    norm: p.std ? { mean: p.mean, std: p.std } : { mean: p.mean },
    arch: meta.get('convnet.arch') || null,
    runId: meta.get('convnet.run') ? Number(meta.get('convnet.run')) : null,
  };
}

/** NHWC float32 images as NCHW. */
export function nhwcToNchw(x: Float32Array, n: number, size: number): Float32Array {
  const out = new Float32Array(x.length);
  const plane = size * size;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) {
        out[(i * 3 + c) * plane + p] = x[(i * plane + p) * 3 + c]!;
      }
    }
  }
  return out;
}

/** ONNX Runtime's softmax rows for NCHW input `x` of `n` images. */
export async function runOnnxSession(session: ort.InferenceSession, x: Float32Array, n: number, size: number): Promise<Float32Array> {
  const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', x, [n, 3, size, size]) });
  const y = out[ONNX_OUTPUT];
  if (!y) {
    throw new Error(`The ONNX model has no output named ${ONNX_OUTPUT}.`);
  }
  return y.data as Float32Array;
}

/**
 * Reads `file` from disk, takes its preprocessing from its metadata, and classifies `paths` with ONNX Runtime
 * (centre crop, batches of 16). Unreadable images come back with their reason.
 */
export async function runOnnxOnFiles(file: string, paths: readonly string[]): Promise<OnnxLine[]> {
  const bytes = fs.readFileSync(file);
  const spec = specFromOnnxMetadata(decodeOnnxModel(bytes));
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  const lines: OnnxLine[] = [];
  const views = classifyViews(spec, false);
  const classes = spec.classes.length;
  try {
    for (let offset = 0; offset < paths.length; offset += 16) {
      const batch = paths.slice(offset, offset + 16);
      const decoded = await Promise.all(batch.map((p) => decodeFile(p, spec.resizeSize)));
      const good = decoded.flatMap((d, i) => (d.ok ? [{ path: batch[i]!, pixels: d.pixels }] : []));
      decoded.forEach((d, i) => !d.ok && lines.push({ path: batch[i]!, error: d.error.reason }));
      if (good.length === 0) {
        continue;
      }
      const x = nhwcToNchw(inputBatch(spec, good.map((g) => g.pixels), views), good.length, spec.inputSize);
      const probs = await runOnnxSession(session, x, good.length, spec.inputSize);
      good.forEach((g, i) => lines.push({ path: g.path, probabilities: Array.from(probs.subarray(i * classes, (i + 1) * classes)) }));
    }
  } finally {
    await session.release();
  }
  return lines;
}
