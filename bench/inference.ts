import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { BackendName } from '../src/api/app.js';
import { activateBackend, chooseBackend } from '../src/backends/index.js';
import { packSizeFor } from '../src/images/pack-images.js';
import { ARCHS, buildModel, type ArchName } from '../src/model/index.js';
import { classifyFiles, predictProbabilities, type Classifier } from '../src/classify/pipeline.js';

/** Inference throughput of one architecture at one input size, on the active backend. */
export interface InferenceThroughput {
  arch: ArchName;
  inputSize: number;
  backend: string;
  /** Images per second, one image per network call. */
  batch1ImagesPerSecond: number;
  /** Images per second, 64 images per network call. */
  batch64ImagesPerSecond: number;
}

/** Latency from an image file on disk to its top-5 (decode + resize + crop + normalise + predict), in ms. */
export interface FileLatency {
  arch: ArchName;
  backend: string;
  /** The file's pixel size and format. */
  image: string;
  medianMs: number;
  p90Ms: number;
  /** The same with the paper's ten-crop averaging. */
  tenCropMedianMs: number;
  runs: number;
}

/** A randomly initialised network of an architecture wrapped as a classifier (the weights do not change the cost). */
export function benchClassifier(arch: ArchName, inputSize = ARCHS[arch].defaultInputSize, classes = 10): Classifier {
  return {
    model: buildModel(arch, { numClasses: classes, inputSize }),
    spec: {
      classes: Array.from({ length: classes }, (_, i) => `class-${i}`),
      inputSize,
      resizeSize: packSizeFor(inputSize),
      norm: { mean: [120, 115, 100], std: [60, 60, 60] },
      arch,
      runId: null,
    },
  };
}

/** Switches to a backend (or the best one) unless `backend` is 'active'; returns the backend in use. */
async function useBackend(backend: BackendName | 'auto' | 'active'): Promise<string> {
  if (backend !== 'active') {
    await activateBackend((await chooseBackend(backend)).name);
  }
  await tf.ready();
  return tf.getBackend();
}

/** Calls `fn` after one warm-up until `minSeconds` have passed (at least `minRuns` times); returns each call's ms. */
async function timeRuns(fn: () => Promise<unknown>, minSeconds: number, minRuns: number): Promise<number[]> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minSeconds * 1000) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

/** Measures images/s of network inference at batch 1 and batch 64 (random input, median batch time). */
export async function measureInference(options: { arch: ArchName; inputSize?: number; backend?: BackendName | 'auto' | 'active'; minSeconds?: number }): Promise<InferenceThroughput> {
  const backend = await useBackend(options.backend ?? 'active');
  const classifier = benchClassifier(options.arch, options.inputSize);
  const n = classifier.spec.inputSize;
  const rate = async (batch: number): Promise<number> => {
    const x = Float32Array.from({ length: batch * n * n * 3 }, (_, i) => ((i * 7919) % 255) - 127);
    const times = await timeRuns(() => predictProbabilities(classifier, x, batch, 1), options.minSeconds ?? 2, 3);
    return (batch * 1000) / median(times);
  };
  try {
    return { arch: options.arch, inputSize: n, backend, batch1ImagesPerSecond: await rate(1), batch64ImagesPerSecond: await rate(64) };
  } finally {
    classifier.model.dispose();
  }
}

/** Writes a photo-sized JPEG (640×480, smooth colours plus texture) to classify in the latency benchmark. */
export async function writeBenchPhoto(file: string, width = 640, height = 480): Promise<void> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      raw[o] = (x * 255) / width;
      raw[o + 1] = (y * 255) / height;
      raw[o + 2] = ((x ^ y) * 7) & 255;
    }
  }
  await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 88 }).toFile(file);
}

/** Measures single-image latency from file to top-5 result for an architecture (default alexnet-small). */
export async function measureFileLatency(options: { arch?: ArchName; backend?: BackendName | 'auto' | 'active'; minSeconds?: number } = {}): Promise<FileLatency> {
  const arch = options.arch ?? 'alexnet-small';
  const backend = await useBackend(options.backend ?? 'active');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convnet-bench-'));
  const file = path.join(dir, 'photo.jpg');
  const classifier = benchClassifier(arch);
  try {
    await writeBenchPhoto(file);
    const once = (tenCrop: boolean) => () => classifyFiles(classifier, [file], { topK: 5, tenCrop }, () => undefined);
    const times = await timeRuns(once(false), options.minSeconds ?? 2, 10);
    const ten = await timeRuns(once(true), options.minSeconds ?? 2, 10);
    return { arch, backend, image: '640×480 JPEG', medianMs: median(times), p90Ms: quantile(times, 0.9), tenCropMedianMs: median(ten), runs: times.length };
  } finally {
    classifier.model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The classify benchmark as the bench suite prints it: latency for alexnet-small, throughput per architecture. */
export async function benchClassify(options: { backend?: BackendName | 'auto'; archs?: ArchName[]; minSeconds?: number } = {}): Promise<{ latency: FileLatency; throughput: InferenceThroughput[] }> {
  const backend = await useBackend(options.backend ?? 'auto');
  const latency = await measureFileLatency({ backend: 'active', ...(options.minSeconds ? { minSeconds: options.minSeconds } : {}) });
  const throughput: InferenceThroughput[] = [];
  for (const arch of options.archs ?? (['alexnet-small', 'alexnet'] as ArchName[])) {
    throughput.push(await measureInference({ arch, backend: 'active', ...(options.minSeconds ? { minSeconds: options.minSeconds } : {}) }));
  }
  return { latency: { ...latency, backend }, throughput };
}

// `npx tsx bench/inference.ts [auto|wasm|cpu|tensorflow] [arch…]` prints the figures as JSON.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const [backend = 'auto', ...archs] = process.argv.slice(2);
  const result = await benchClassify({ backend: backend as BackendName | 'auto', ...(archs.length ? { archs: archs as ArchName[] } : {}) });
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}
