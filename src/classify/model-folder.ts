import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import type { ClassifierSpec } from './spec.js';

/** Files every exported model folder has besides its weight shards. */
export const MODEL_FILE = 'model.json';
export const LABELS_FILE = 'labels.json';
export const PREPROCESSING_FILE = 'preprocessing.json';

/** Bytes per weight shard, as tfjs' own converter writes them. */
const SHARD_BYTES = 4 * 1024 * 1024;

const Triple = z.tuple([z.number(), z.number(), z.number()]);

/** preprocessing.json: how an image becomes the network's input, as data a browser or Node script can follow. */
export const PreprocessingFile = z.object({
  format: z.literal('convnet-studio-preprocessing'),
  version: z.literal(1),
  inputSize: z.number().int().positive(),
  resizeSize: z.number().int().positive(),
  resize: z.string(),
  crop: z.string(),
  channelOrder: z.literal('RGB'),
  layout: z.literal('NHWC'),
  pixelRange: z.tuple([z.literal(0), z.literal(255)]),
  mean: Triple,
  std: Triple,
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

function readJson(dir: string, file: string): unknown {
  const full = path.join(dir, file);
  let text: string;
  try {
    text = fs.readFileSync(full, 'utf8');
  } catch {
    throw new ApiError('bad_request', `${dir} is not a ConvNet Studio model folder: ${file} is missing.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError('bad_request', `${full} is not valid JSON: ${(err as Error).message}`);
  }
}

/** A model folder's files, checked without loading the network: manifest, shard sizes, labels against the output layer. */
export interface ModelFolder {
  spec: ClassifierSpec;
  modelJson: tf.io.ModelJSON;
  /** Weight shard file names, in manifest order. */
  shards: string[];
  sizeBytes: number;
}

/** Reads and checks a model folder; throws bad_request with the reason when it is not a usable export. */
export function inspectModelFolder(dir: string): ModelFolder {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ApiError('not_found', `No folder at ${dir}.`);
  }
  const modelJson = readJson(dir, MODEL_FILE) as tf.io.ModelJSON;
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new ApiError('bad_request', `${path.join(dir, MODEL_FILE)} is not a TensorFlow.js layers model.`);
  }
  const labels = z.array(z.string()).min(2).safeParse(readJson(dir, LABELS_FILE));
  if (!labels.success) {
    throw new ApiError('bad_request', `${path.join(dir, LABELS_FILE)} must be an array of at least 2 class names.`);
  }
  const pre = PreprocessingFile.safeParse(readJson(dir, PREPROCESSING_FILE));
  if (!pre.success) {
    throw new ApiError('bad_request', `${path.join(dir, PREPROCESSING_FILE)} is not ConvNet Studio preprocessing: ${pre.error.issues[0]?.message ?? 'invalid'}.`);
  }
  const shards = modelJson.weightsManifest.flatMap((g) => g.paths);
  let sizeBytes = 0;
  for (const shard of shards) {
    if (shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new ApiError('bad_request', `Weight file "${shard}" must lie in the model folder itself.`);
    }
    const file = path.join(dir, shard);
    if (!fs.existsSync(file)) {
      throw new ApiError('bad_request', `Weight file ${shard} named in model.json is missing from ${dir}.`);
    }
    sizeBytes += fs.statSync(file).size;
  }
  const expected = modelJson.weightsManifest.flatMap((g) => g.weights).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * 4, 0);
  if (expected !== sizeBytes) {
    throw new ApiError('bad_request', `The weight files hold ${sizeBytes} bytes; model.json describes ${expected}. The folder is incomplete or damaged.`);
  }
  const units = outputUnits(modelJson.modelTopology);
  if (units !== null && units !== labels.data.length) {
    throw new ApiError('bad_request', `labels.json names ${labels.data.length} classes but the network outputs ${units}.`);
  }
  return { spec: specFromFiles(labels.data, pre.data), modelJson, shards, sizeBytes };
}

/** Units of the last Dense layer of a layers-model topology, or null when none is found. */
function outputUnits(topology: unknown): number | null {
  const config = (topology as { model_config?: { config?: { layers?: Array<{ class_name: string; config: { units?: number } }> } } })?.model_config?.config;
  const dense = config?.layers?.filter((l) => l.class_name === 'Dense') ?? [];
  return dense.at(-1)?.config.units ?? null;
}

/** The model of a checked folder as tfjs artifacts (weights concatenated in manifest order). */
export function readModelArtifacts(dir: string, folder: ModelFolder): tf.io.ModelArtifacts {
  const weights = Buffer.concat(folder.shards.map((s) => fs.readFileSync(path.join(dir, s))));
  return {
    modelTopology: folder.modelJson.modelTopology,
    weightSpecs: folder.modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
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
