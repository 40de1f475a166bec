import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ClassifierSpec } from './spec.js';

/** Files every exported model folder has besides its weight shards. */
export const MODEL_FILE = 'model.json';
export const LABELS_FILE = 'labels.json';
export const PREPROCESSING_FILE = 'preprocessing.json';
/** Files an export may also hold that an import copies when present. */
export const EXTRA_FILES = ['convnet-layers.js', 'predict.mjs', 'package.json', 'README.md'];

/** Bytes per weight shard, as tfjs' own converter writes them. */
const SHARD_BYTES = 4 * 1024 * 1024;

/** Largest network input side a model folder may ask for (training allows 16–512 px). */
export const MAX_INPUT_SIZE = 512;
/** Largest side images may be decoded to before the crop: classify holds batches of these in memory. */
export const MAX_RESIZE_SIZE = 1024;

const Triple = z.tuple([z.number().finite(), z.number().finite(), z.number().finite()]);

/** preprocessing.json: how an image becomes the network's input, as data a browser or Node script can follow. */
export const PreprocessingFile = z.object({
  format: z.literal('convnet-studio-preprocessing'),
  version: z.literal(1),
  inputSize: z.number().int().min(8).max(MAX_INPUT_SIZE),
  resizeSize: z.number().int().min(8).max(MAX_RESIZE_SIZE),
  resize: z.string(),
  crop: z.string(),
  channelOrder: z.literal('RGB'),
  layout: z.literal('NHWC'),
  pixelRange: z.tuple([z.literal(0), z.literal(255)]),
  mean: Triple,
  std: z.tuple([z.number().finite().positive(), z.number().finite().positive(), z.number().finite().positive()]),
  formula: z.string(),
  tenCrop: z.string(),
  output: z.string(),
  source: z.object({ app: z.string(), arch: z.string().nullable(), runId: z.number().int().nullable(), exportedAt: z.string() }),
});
export type PreprocessingFile = z.infer<typeof PreprocessingFile>;

/** The preprocessing.json of a spec, in words and numbers. */
export function preprocessingFileOf(spec: ClassifierSpec, app: string, exportedAt = new Date()): PreprocessingFile {
  const { inputSize: n, resizeSize: r } = spec;
  return {
    format: 'convnet-studio-preprocessing',
    version: 1,
    inputSize: n,
    resizeSize: r,
    resize:
      `Decode the first frame, apply the EXIF orientation, flatten alpha onto black, convert to 8-bit sRGB; ` +
      `resize so the short side is ${r} px and centre-crop ${r}×${r} (libvips/sharp fit 'cover', lanczos3).`,
    crop: `Centre ${n}×${n} crop of the ${r}×${r} image, at offset floor((${r} − ${n}) / 2) = ${Math.floor((r - n) / 2)} in both axes.`,
    channelOrder: 'RGB',
    layout: 'NHWC',
    pixelRange: [0, 255],
    mean: [...spec.norm.mean],
    std: spec.norm.std ? [...spec.norm.std] : [1, 1, 1],
    formula: 'x[c] = (pixel[c] − mean[c]) / std[c], pixels on the 0–255 scale, float32, shape [batch, inputSize, inputSize, 3]',
    tenCrop:
      `Optional (the paper's test-time averaging): the four corner and the centre ${n}×${n} crops of the ${r}×${r} image ` +
      'and their horizontal mirrors; average the ten softmax outputs.',
    output: 'Softmax probabilities, one per class, in the order of labels.json.',
    source: { app, arch: spec.arch, runId: spec.runId, exportedAt: exportedAt.toISOString() },
  };
}

/** The spec a model folder describes. */
export function specFromFiles(labels: string[], pre: PreprocessingFile): ClassifierSpec {
  const unitStd = pre.std.every((s) => s === 1);
  return {
    classes: labels,
    inputSize: pre.inputSize,
    resizeSize: pre.resizeSize,
    norm: unitStd ? { mean: pre.mean } : { mean: pre.mean, std: pre.std },
    arch: pre.source.arch,
    runId: pre.source.runId,
  };
}

/** Writes model.json and its weight shards (tfjs' layout: group1-shardNofM.bin, 4 MiB each); returns the file names. */
export function writeLayersModel(dir: string, artifacts: tf.io.ModelArtifacts, generatedBy: string): string[] {
  const data = artifacts.weightData === undefined ? [] : Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
  const all = Buffer.concat(data.map((b) => Buffer.from(b)));
  const count = Math.max(1, Math.ceil(all.length / SHARD_BYTES));
  const shards = Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  shards.forEach((name, i) => fs.writeFileSync(path.join(dir, name), all.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)));
  const modelJson = {
    format: 'layers-model',
    generatedBy,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shards, weights: artifacts.weightSpecs ?? [] }],
  };
  fs.writeFileSync(path.join(dir, MODEL_FILE), JSON.stringify(modelJson));
  return [MODEL_FILE, ...shards];
}
