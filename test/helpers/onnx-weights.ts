// Seeded random weights for ONNX parity tests: large enough that every layer (LRN included) matters, with a
// softmax that is neither uniform nor one-hot.
import * as tf from '@tensorflow/tfjs';
import { forwardOf } from '../../src/model/forward.js';

/** A seeded stream of N(0, 1) draws. */
export function normals(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Every weight redrawn (kernels He-scaled, biases N(0, 1) so that the bias mapping matters), then the last
 * layer scaled so that the logits of `x` have a standard deviation of 2: a softmax neither uniform nor one-hot,
 * where a wrong weight layout or LRN constant shows in the probabilities.
 */
export function randomizeWeights(model: tf.LayersModel, seed: number, x: tf.Tensor4D): void {
  const draw = normals(seed);
  for (const w of model.weights) {
    const shape = w.shape as number[];
    const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 0;
    const scale = shape.length > 1 ? Math.sqrt(2 / fanIn) : 1;
    const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => draw() * scale);
    tf.tidy(() => {
      w.write(tf.tensor(values, shape));
    });
  }
  const last = model.layers.at(-1)!;
  const [kernel, bias] = last.weights as [tf.LayerVariable, tf.LayerVariable];
  tf.tidy(() => {
    const logits = tf.add(tf.matMul(forwardOf(model.layers.slice(0, -1))(x, false) as tf.Tensor2D, kernel.read() as tf.Tensor2D), bias.read());
    const std = tf.moments(logits).variance.sqrt().dataSync()[0]!;
    kernel.write(tf.mul(kernel.read(), 2 / std));
    bias.write(tf.mul(bias.read(), 2 / std));
  });
}
