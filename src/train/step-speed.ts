// Training speed of an architecture on the active tfjs backend, measured the same way in a compute
// page (webgpu/webgl) and in Node (wasm/cpu/tensorflow), so the figures sit side by side.
import * as tf from '@tensorflow/tfjs';
import { buildModel, type ArchName } from '../model/index.js';
import { logitsOf, keyedWeights } from './loop.js';
import { PaperSgd } from './sgd.js';

/** What measureModelTraining found. */
export interface TrainingSpeed {
  backend: string;
  arch: ArchName;
  inputSize: number;
  batchSize: number;
  steps: number;
  imagesPerSecond: number;
  /** First step, including shader compilation or kernel set-up. */
  firstStepSeconds: number;
}

/** Times `steps` SGD steps (after one warm-up) of `arch` on random data with the loop's own step. */
export async function measureModelTraining(o: { arch: ArchName; inputSize: number; batchSize: number; steps: number; numClasses?: number }): Promise<TrainingSpeed> {
  const classes = o.numClasses ?? 10;
  const model = buildModel(o.arch, { numClasses: classes, inputSize: o.inputSize });
  const sgd = new PaperSgd(keyedWeights(model), { momentum: 0.9, weightDecay: 0.0005 });
  const logits = logitsOf(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomNormal([o.batchSize, o.inputSize, o.inputSize, 3]) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: o.batchSize }, (_, i) => i % classes), 'int32'), classes);
  const step = async (): Promise<void> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits(x, true)) as tf.Scalar, vars);
      sgd.apply(grads, 0.001);
      return value;
    });
    await loss.data();
    loss.dispose();
  };
  try {
    const t0 = performance.now();
    await step();
    const firstStepSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    for (let i = 0; i < o.steps; i++) {
      await step();
    }
    const seconds = (performance.now() - t1) / 1000;
    return { backend: tf.getBackend(), arch: o.arch, inputSize: o.inputSize, batchSize: o.batchSize, steps: o.steps, imagesPerSecond: (o.steps * o.batchSize) / seconds, firstStepSeconds };
  } finally {
    tf.dispose([x, y]);
    sgd.dispose();
    model.dispose();
  }
}
