import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ApiError } from '../api/errors.js';
import { EXTRA_FILES, LABELS_FILE, MODEL_FILE, PREPROCESSING_FILE, PreprocessingFile, specFromFiles } from './model-folder.js';
import { lstatFile, NotRegularFile, readRegularFileSync } from './regular-file.js';
import type { ClassifierSpec } from './spec.js';

/** Caps on what a model folder's files may weigh: read whole into memory, they must not be able to exhaust it. */
const MAX_BYTES = { [MODEL_FILE]: 32 << 20, [LABELS_FILE]: 4 << 20, [PREPROCESSING_FILE]: 64 << 10, extra: 4 << 20, weights: 2 ** 31 };
const MAX_CLASSES = 100_000;
const MAX_LABEL_LENGTH = 500;

/** A weight-file name as tfjs writes them: a plain name in the folder itself. */
const SHARD_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

const WeightSpec = z
  .object({
    name: z.string().min(1),
    shape: z.array(z.number().int().nonnegative()),
    dtype: z.enum(['float32', 'int32'], { message: 'only float32 and int32 weights are supported' }),
  })
  .passthrough()
  .refine((w) => (w as { quantization?: unknown }).quantization == null, 'quantized weights are not supported');

/** model.json of a TF.js layers model: the topology and where each weight's bytes are. */
const ModelJsonFile = z
  .object({
    modelTopology: z.object({ class_name: z.string(), config: z.unknown() }).passthrough().or(z.object({ model_config: z.object({ class_name: z.string(), config: z.unknown() }).passthrough() }).passthrough()),
    weightsManifest: z.array(z.object({ paths: z.array(z.string()).min(1), weights: z.array(WeightSpec) })).min(1),
  })
  .passthrough();

const Labels = z
  .array(z.string().min(1, 'a class name is empty').max(MAX_LABEL_LENGTH, `a class name is longer than ${MAX_LABEL_LENGTH} characters`))
  .min(2, 'at least 2 class names are needed')
  .max(MAX_CLASSES, `more than ${MAX_CLASSES} classes`)
  .refine((l) => new Set(l).size === l.length, 'a class name appears twice');

/** A model folder's files, checked without loading the network. */
export interface ModelFolder {
  spec: ClassifierSpec;
  modelJson: tf.io.ModelJSON;
  /** Weight shard file names, in manifest order. */
  shards: string[];
  /** Every file an import copies (model, labels, preprocessing, shards, the extras present) with its size. */
  files: Array<{ name: string; size: number }>;
  /** Bytes of the weight shards. */
  sizeBytes: number;
}

const bad = (message: string): ApiError => new ApiError('bad_request', message);

function issueText(issues: z.ZodIssue[]): string {
  const first = issues[0];
  if (!first) {
    return 'invalid';
  }
  return first.path.length ? `${first.path.join('.')}: ${first.message}` : first.message;
}

/** Size of a file the folder must hold as a regular file; missing or anything else (link, FIFO, …) is refused. */
function requireRegular(dir: string, name: string, what: string): number {
  const full = path.join(dir, name);
  try {
    const found = lstatFile(full);
    if (found.kind === 'missing') {
      throw bad(`${dir} is not a ConvNet Studio model folder: ${what} ${name} is missing.`);
    }
    return found.size;
  } catch (err) {
    throw err instanceof NotRegularFile ? bad(`${full} is ${err.message}; a model folder holds regular files only.`) : err;
  }
}

function readJsonFile(dir: string, name: string, maxBytes: number): unknown {
  const full = path.join(dir, name);
  requireRegular(dir, name, 'its');
  let text: string;
  try {
    text = readRegularFileSync(full, maxBytes).toString('utf8');
  } catch (err) {
    throw err instanceof NotRegularFile ? bad(`${full} is ${err.message}.`) : err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad(`${full} is not valid JSON: ${(err as Error).message}`);
  }
}

type LayerJson = { class_name?: unknown; config?: { units?: unknown; batch_input_shape?: unknown; batch_shape?: unknown } };

/** The layer list of a layers-model topology: Sequential `{class_name, config: {layers}}` or Keras' `{model_config: …}`. */
function layersOf(topology: unknown): LayerJson[] | null {
  const top = topology as { model_config?: unknown; config?: unknown };
  const model = (top.model_config ?? top) as { config?: { layers?: unknown } | unknown[] };
  const layers = Array.isArray(model.config) ? model.config : (model.config as { layers?: unknown } | undefined)?.layers;
  return Array.isArray(layers) ? (layers as LayerJson[]) : null;
}

/** Units of the last Dense layer (the class scores), or null when the topology has none. */
export function outputUnitsOf(topology: unknown): number | null {
  const dense = (layersOf(topology) ?? []).filter((l) => l?.class_name === 'Dense');
  const units = dense.at(-1)?.config?.units;
  return typeof units === 'number' ? units : null;
}

/** The [batch, height, width, channels] the first layer declares, or null when it declares none. */
export function inputShapeOf(topology: unknown): unknown[] | null {
  const first = layersOf(topology)?.[0]?.config;
  const shape = first?.batch_input_shape ?? first?.batch_shape;
  return Array.isArray(shape) ? shape : null;
}

/** Checks the weight manifest: plain file names inside the folder, regular files, each group's bytes as described. */
function checkShards(dir: string, manifest: z.infer<typeof ModelJsonFile>['weightsManifest']): { shards: Array<{ name: string; size: number }>; sizeBytes: number } {
  const reserved = new Set([MODEL_FILE, LABELS_FILE, PREPROCESSING_FILE, ...EXTRA_FILES]);
  const seen = new Set<string>();
  const shards: Array<{ name: string; size: number }> = [];
  let sizeBytes = 0;
  manifest.forEach((group, g) => {
    let groupBytes = 0;
    for (const name of group.paths) {
      if (!SHARD_NAME.test(name) || name === '.' || name === '..') {
        throw bad(`${path.join(dir, MODEL_FILE)}: weight file "${name}" must be a plain file name in the model folder itself (no folders, "..", absolute paths or leading dot).`);
      }
      if (reserved.has(name) || seen.has(name)) {
        throw bad(`${path.join(dir, MODEL_FILE)}: weight file "${name}" is named twice or is another file of the folder.`);
      }
      seen.add(name);
      const size = requireRegular(dir, name, 'the weight file');
      shards.push({ name, size });
      groupBytes += size;
    }
    const expected = group.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * 4, 0);
    if (groupBytes !== expected) {
      const names = group.paths.join(', ');
      throw bad(`The weight files hold ${groupBytes} bytes (${names} in ${dir}); ${MODEL_FILE} describes ${expected} (weightsManifest[${g}]). The folder is incomplete or damaged.`);
    }
    sizeBytes += groupBytes;
  });
  if (sizeBytes > MAX_BYTES.weights) {
    throw bad(`The weights in ${dir} weigh ${sizeBytes} bytes, more than the ${MAX_BYTES.weights} a model folder may hold.`);
  }
  return { shards, sizeBytes };
}

/**
 * Reads and checks a model folder completely without loading the network or opening anything but its small JSON
 * files: regular files only (no links, FIFOs, devices), model.json's shape and manifest, shard names and sizes,
 * labels against the network's outputs, preprocessing sizes within bounds and against the network's input.
 * Throws bad_request naming the file and the problem.
 */
export function inspectModelFolder(dir: string): ModelFolder {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new ApiError('not_found', `No folder at ${dir}.`);
  }
  const modelFile = path.join(dir, MODEL_FILE);
  const parsedModel = ModelJsonFile.safeParse(readJsonFile(dir, MODEL_FILE, MAX_BYTES[MODEL_FILE]));
  if (!parsedModel.success) {
    throw bad(`${modelFile} is not a TensorFlow.js layers model: ${issueText(parsedModel.error.issues)}.`);
  }
  const labelsFile = path.join(dir, LABELS_FILE);
  const labels = Labels.safeParse(readJsonFile(dir, LABELS_FILE, MAX_BYTES[LABELS_FILE]));
  if (!labels.success) {
    throw bad(`${labelsFile} must be an array of distinct class names: ${issueText(labels.error.issues)}.`);
  }
  const preFile = path.join(dir, PREPROCESSING_FILE);
  const pre = PreprocessingFile.safeParse(readJsonFile(dir, PREPROCESSING_FILE, MAX_BYTES[PREPROCESSING_FILE]));
  if (!pre.success) {
    throw bad(`${preFile} is not ConvNet Studio preprocessing: ${issueText(pre.error.issues)}.`);
  }
  const { inputSize, resizeSize } = pre.data;
  if (resizeSize < inputSize) {
    throw bad(`${preFile}: resizeSize ${resizeSize} is smaller than inputSize ${inputSize}; the crop cannot be taken.`);
  }
  const topology = parsedModel.data.modelTopology;
  const units = outputUnitsOf(topology);
  if (units === null) {
    throw bad(`${modelFile}: no Dense output layer found in modelTopology; cannot tell how many classes the network outputs.`);
  }
  if (units !== labels.data.length) {
    throw bad(`${labelsFile} names ${labels.data.length} classes but the network in ${MODEL_FILE} outputs ${units}; every answer would be wrong.`);
  }
  const shape = inputShapeOf(topology);
  if (shape === null || shape.length !== 4 || shape[1] !== inputSize || shape[2] !== inputSize || shape[3] !== 3) {
    throw bad(`${preFile}: inputSize ${inputSize} does not match the network's input ${JSON.stringify(shape)} in ${MODEL_FILE} (expected [null, ${inputSize}, ${inputSize}, 3]).`);
  }
  const { shards, sizeBytes } = checkShards(dir, parsedModel.data.weightsManifest);
  const files = [MODEL_FILE, LABELS_FILE, PREPROCESSING_FILE].map((name) => ({ name, size: requireRegular(dir, name, 'its') }));
  for (const name of EXTRA_FILES) {
    const full = path.join(dir, name);
    let found;
    try {
      found = lstatFile(full);
    } catch (err) {
      throw err instanceof NotRegularFile ? bad(`${full} is ${err.message}; a model folder holds regular files only.`) : err;
    }
    if (found.kind === 'regular') {
      if (found.size > MAX_BYTES.extra) {
        throw bad(`${full} is ${found.size} bytes, more than the ${MAX_BYTES.extra} an export's ${name} may weigh.`);
      }
      files.push({ name, size: found.size });
    }
  }
  return {
    spec: specFromFiles(labels.data, pre.data),
    modelJson: parsedModel.data as unknown as tf.io.ModelJSON,
    shards: shards.map((s) => s.name),
    files: [...files.slice(0, 3), ...shards, ...files.slice(3)],
    sizeBytes,
  };
}

/** The model of a checked folder as tfjs artifacts (weights concatenated in manifest order, each shard re-checked as read). */
export function readModelArtifacts(dir: string, folder: ModelFolder): tf.io.ModelArtifacts {
  const sizes = new Map(folder.files.map((f) => [f.name, f.size]));
  const weights = Buffer.concat(
    folder.shards.map((s) => {
      try {
        return readRegularFileSync(path.join(dir, s), sizes.get(s)!, true);
      } catch (err) {
        throw err instanceof NotRegularFile ? bad(`${path.join(dir, s)} is ${err.message}.`) : err;
      }
    }),
  );
  return {
    modelTopology: folder.modelJson.modelTopology,
    weightSpecs: folder.modelJson.weightsManifest.flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  };
}
