// Times a few training steps of the real network (the run's architecture, input size and classes) on one
// backend, so the Train form can estimate a run's duration before it starts. Pure tfjs, no Node APIs.
import * as tf from '@tensorflow/tfjs';
import { buildModel, type ArchName } from '../model/index.js';
import { logitsOf } from './loop.js';

/** What to time: the network of a run, at a measuring batch of `images` (a full batch can take minutes on a CPU). */
export interface StepTimingRequest {
  arch: ArchName;
  inputSize: number;
  numClasses: number;
  images: number;
  steps: number;
}

/** Seconds per image of one forward + backward + SGD step of the real network, after one warm-up step. */
export async function timeTrainingStep(r: StepTimingRequest): Promise<number> {
  const model = buildModel(r.arch, { numClasses: r.numClasses, inputSize: r.inputSize, seed: 1 });
  const logits = logitsOf(model);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const x = tf.randomNormal([r.images, r.inputSize, r.inputSize, 3]) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: r.images }, (_, i) => i % r.numClasses), 'int32'), r.numClasses);
  const step = async (): Promise<void> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, logits(x, true, 1)) as tf.Scalar, vars);
      for (const v of vars) {
        v.assign(tf.sub(v, tf.mul(grads[v.name]!, 1e-4)));
      }
      return value;
    });
    await loss.data();
    loss.dispose();
  };
  try {
    await step();
    const t0 = performance.now();
    for (let i = 0; i < r.steps; i++) {
      await step();
    }
    return (performance.now() - t0) / 1000 / r.steps / r.images;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}
