// Figure 9: the fast head. AlexNet at 224 px with seeded weights standing in for ImageNet's (the download is not
// reachable here; the arithmetic is the same), 1000 generated images in 10 classes: one pass of fc7 feature
// extraction, then fc8 alone trained for 30 epochs on the cached features — through the product's own
// extractFeatures + trainFastHead. The peer is training the whole network the same 30 epochs (the fine-tuning
// default), estimated from one measured training step of the product's loop on the same backend.
import * as tf from '@tensorflow/tfjs';
import { activateBackend } from '../src/backends/index.js';
import type { Batch, BatchSource } from '../src/images/batch-source.js';
import { Rng } from '../src/images/prng.js';
import { buildModel } from '../src/model/index.js';
import { startFromParent } from '../src/train/init-from.js';
import { trainFastHead } from '../src/train/fast-head.js';
import { keyedWeights, logitsOf } from '../src/train/loop.js';
import { initialSchedule } from '../src/train/schedule.js';
import { PaperSgd } from '../src/train/sgd.js';
import { TrainConfig } from '../src/api/runs.js';
import type { Row } from './results.js';

const SIZE = 224;
const CLASSES = 10;

/** Per-class patterns (a bright disc at the class's place) plus noise from one shared table; made once, so the bench times the network. */
const NOISE = (() => {
  const rng = Rng.fromSeed(9, 'noise');
  return Float32Array.from({ length: 1 << 20 }, () => (rng.next() - 0.5) * 0.5);
})();
const PATTERNS = Array.from({ length: CLASSES }, (_, label) => {
  const out = new Float32Array(SIZE * SIZE * 3);
  const cx = 40 + (label % 5) * 36;
  const cy = label < 5 ? 70 : 150;
  for (let p = 0; p < SIZE * SIZE; p++) {
    const dx = (p % SIZE) - cx;
    const dy = Math.floor(p / SIZE) - cy;
    const on = dx * dx + dy * dy < 900 ? 1.5 : 0;
    for (let c = 0; c < 3; c++) {
      out[p * 3 + c] = c === label % 3 ? on : -on / 2;
    }
  }
  return out;
});

/** Generated images, each its class's pattern plus its own slice of noise; batches made on demand (1000 × 224² floats would be 600 MB). */
class GeneratedImages implements BatchSource {
  readonly batchesPerEpoch: number;
  private index = 0;
  constructor(
    private readonly count: number,
    private readonly batch: number,
  ) {
    this.batchesPerEpoch = Math.ceil(count / batch);
  }
  seek(_epoch: number, start = 0): void {
    this.index = start;
  }
  async next(): Promise<Batch | null> {
    if (this.index >= this.batchesPerEpoch) {
      return null;
    }
    const first = this.index * this.batch;
    const n = Math.min(this.batch, this.count - first);
    const per = SIZE * SIZE * 3;
    const x = new Float32Array(n * per);
    const labels = new Int32Array(n);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const id = first + i;
      labels[i] = id % CLASSES;
      ids[i] = id;
      const pattern = PATTERNS[labels[i]!]!;
      const offset = (id * 7919) % (NOISE.length - per);
      for (let k = 0; k < per; k++) {
        x[i * per + k] = pattern[k]! + NOISE[offset + k]!;
      }
    }
    this.index += 1;
    return { x, shape: [n, SIZE, SIZE, 3], labels, ids };
  }
  async close(): Promise<void> {}
}

/** One training step of the whole network (batch `batch`) through the product's loop ops, in seconds (median of `reps` after a warm-up). */
async function fullStepSeconds(model: tf.LayersModel, batch: number, reps: number): Promise<number> {
  const logits = logitsOf(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const sgd = new PaperSgd(keyedWeights(model), { momentum: 0.9, weightDecay: 0.0005 });
  const source = new GeneratedImages(batch, batch);
  const b = (await source.next())!;
  const times: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t = performance.now();
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(b.labels, 'int32'), CLASSES), logits(tf.tensor4d(b.x, b.shape), true)) as tf.Scalar, vars);
      sgd.apply(grads, 0.001);
      return value;
    });
    await loss.data();
    loss.dispose();
    if (r > 0) {
      times.push((performance.now() - t) / 1000);
    }
  }
  sgd.dispose();
  return times.sort((a, c) => a - c)[Math.floor(times.length / 2)]!;
}

/** Figure 9's rows: feature extraction (one pass) and the head's 30 epochs, each against the whole network's training. */
export async function fastHeadFigure(o: { images: number; log: (s: string) => void }): Promise<Row[]> {
  const backend = await activateBackend('wasm');
  const epochs = 30;
  const parent = buildModel('alexnet', { numClasses: 1000, inputSize: SIZE, seed: 1 });
  const child = buildModel('alexnet', { numClasses: CLASSES, inputSize: SIZE, seed: 2 });
  const config = TrainConfig.parse({ datasetId: 1, arch: 'alexnet', epochs, batchSize: 128, initFrom: { kind: 'model', id: 1 }, freeze: 'all-but-last' });
  startFromParent(child, parent, config);
  parent.dispose();

  o.log(`figure 9: measuring one whole-network training step (alexnet ${SIZE} px, batch 16, ${backend})`);
  const unfrozen = buildModel('alexnet', { numClasses: CLASSES, inputSize: SIZE, seed: 3 });
  const stepSeconds = await fullStepSeconds(unfrozen, 16, 2);
  unfrozen.dispose();
  const fullEpoch = (stepSeconds / 16) * o.images;

  o.log(`figure 9: fast head on ${o.images} images: extracting fc7 once, then ${epochs} epochs of fc8`);
  const sgd = new PaperSgd(keyedWeights(child), { momentum: 0.9, weightDecay: 0.0005 });
  const noop = async (): Promise<void> => undefined;
  const { times, position } = await trainFastHead({
    model: child,
    sgd,
    config: { epochs, lr: config.lr, schedule: config.schedule, timeLimitMinutes: null, seed: 1 },
    numClasses: CLASSES,
    train: new GeneratedImages(o.images, 50),
    val: null,
    start: { epoch: 0, batch: 0, lossSum: 0, images: 0, seconds: 0, schedule: initialSchedule(config), best: { top1: null, top5: null } },
    batchSize: config.batchSize,
    views: 1,
    hooks: { progress: () => undefined, epochEnd: noop, control: async () => 'continue', stopped: noop },
  });
  sgd.dispose();
  child.dispose();
  const peerName = `whole network trained, est. from one step (${stepSeconds.toFixed(2)} s / 16 images)`;
  const note = `alexnet ${SIZE} px, seeded weights for ImageNet's, ${o.images} generated images, ${CLASSES} classes, ${backend}; ${position.epoch} epochs`;
  return [
    {
      figure: 9,
      id: `fast-head.extract.alexnet.${SIZE}px.${o.images}`,
      what: `fast head: fc7 features of ${o.images} images, one pass`,
      unit: 's',
      better: 'lower',
      ours: times.extractSeconds,
      peerName: `${peerName}, 1 epoch`,
      peer: fullEpoch,
      ratio: times.extractSeconds / fullEpoch,
      note,
    },
    {
      figure: 9,
      id: `fast-head.train.alexnet.${SIZE}px.${o.images}.${epochs}ep`,
      what: `fast head: fc8 trained ${epochs} epochs on the cached features`,
      unit: 's',
      better: 'lower',
      ours: times.trainSeconds,
      peerName: `${peerName}, ${epochs} epochs`,
      peer: fullEpoch * epochs,
      ratio: times.trainSeconds / (fullEpoch * epochs),
      note,
    },
  ];
}
