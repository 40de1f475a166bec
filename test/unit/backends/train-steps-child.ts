// Child process of threads-determinism.test.ts: trains alexnet-small a few steps through the product's
// loop on wasm at the thread count given (argv[2]) and prints the threads used and a hash of the weights.
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { RepeatSource } from '../../../bench/ours-worker.js';
import { activateBackend } from '../../../src/backends/index.js';
import { kernelThreadCount } from '../../../src/backends/wasm-kernels/simd-module.js';
import type { WasmBackendLike } from '../../../src/backends/wasm-kernels/kernel-call.js';
import { buildModel } from '../../../src/model/index.js';
import { keyedWeights, trainLoop } from '../../../src/train/loop.js';
import { initialSchedule } from '../../../src/train/schedule.js';
import { PaperSgd } from '../../../src/train/sgd.js';
import { randomValues } from './wasm-test-backend.js';

const threads = Number(process.argv[2]);
await activateBackend('wasm', threads);
const model = buildModel('alexnet-small', { numClasses: 10, inputSize: 32 });
// Weights from a fixed seed, so that every process starts from the same numbers.
model.weights.forEach((w, i) => w.write(tf.tensor(randomValues(w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number, 100 + i).map((v) => v * 0.05), w.shape as number[])));
const n = 32;
const batch = {
  x: randomValues(n * 32 * 32 * 3, 7),
  shape: [n, 32, 32, 3] as [number, number, number, number],
  labels: Int32Array.from({ length: n }, (_, i) => i % 10),
  ids: Int32Array.from({ length: n }, (_, i) => i),
};
// The product's loop (logitsOf, softmax cross-entropy, PaperSgd), its dropout masks from the run's seed.
const lr = 0.01;
await trainLoop({
  model,
  sgd: new PaperSgd(keyedWeights(model), { momentum: 0.9, weightDecay: 5e-4 }),
  config: { epochs: 1, lr, schedule: { kind: 'cosine', minLr: lr }, timeLimitMinutes: null, seed: 1 },
  numClasses: 10,
  train: new RepeatSource(batch, 3),
  val: null,
  start: { epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule({ lr }), best: { top1: null, top5: null } },
  hooks: { progress: () => undefined, epochEnd: async () => undefined, control: async () => 'continue', stopped: async () => undefined },
});
const hash = crypto.createHash('sha256');
const firstLayer: number[] = [];
for (const w of model.weights) {
  const values = w.read().dataSync() as Float32Array;
  hash.update(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  if (firstLayer.length === 0) {
    firstLayer.push(...values);
  }
}
const last = model.weights.at(-1)!.read().dataSync() as Float32Array;
process.stdout.write(
  JSON.stringify({ xnnpack: getThreadsCount(), kernels: kernelThreadCount(tf.backend() as unknown as WasmBackendLike), hash: hash.digest('hex'), last: Array.from(last) }) + '\n',
);
process.exit(0);
