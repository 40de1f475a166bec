// auto's measured probe: one small training step, timed the same way on every backend (Node's
// tensorflow/wasm/cpu in a probe worker, webgpu/webgl in a compute page). Pure tfjs, no Node APIs.
import * as tf from '@tensorflow/tfjs';

/**
 * Seconds per training step of a small conv net (conv 5×5 → pool → dense, batch 16 at 32 px) on the
 * active backend, after one warm-up step: a short measurement to rank backends by, not a benchmark.
 */
export async function measureTrainingStep(steps = 3): Promise<number> {
  const w1 = tf.variable(tf.randomNormal([5, 5, 3, 32], 0, 0.05));
  const w2 = tf.variable(tf.randomNormal([15 * 15 * 32, 10], 0, 0.01));
  const x = tf.randomNormal([16, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: 16 }, (_, i) => i % 10), 'int32'), 10);
  const step = async (): Promise<void> => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as unknown as tf.Tensor4D, 1, 'same')), 3, 2, 'valid');
        return tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.reshape(h, [16, -1]), w2)) as tf.Scalar;
      });
      w1.assign(tf.sub(w1, tf.mul(grads[w1.name]!, 0.01)));
      w2.assign(tf.sub(w2, tf.mul(grads[w2.name]!, 0.01)));
      return value;
    });
    await loss.data();
    loss.dispose();
  };
  try {
    await step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      await step();
    }
    return (performance.now() - t0) / 1000 / steps;
  } finally {
    tf.dispose([w1, w2, x, y]);
  }
}
