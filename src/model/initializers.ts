import * as tf from '@tensorflow/tfjs';

/** A tf.layers weight initializer. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Weight initialisation scheme: the paper's N(0, 0.01) with bias 1 in conv2/4/5 and FC hidden layers, or He (fan-in) normal with zero biases. */
export type InitScheme = 'paper' | 'he';

/** The kernel initializer of a scheme. */
export function kernelInitializer(scheme: InitScheme): Initializer {
  return scheme === 'paper' ? tf.initializers.randomNormal({ mean: 0, stddev: 0.01 }) : tf.initializers.heNormal({});
}

/** The bias initializer of a scheme for a layer whose paper bias is `paperBias`. */
export function biasInitializer(scheme: InitScheme, paperBias: number): Initializer {
  const value = scheme === 'paper' ? paperBias : 0;
  return value === 0 ? tf.initializers.zeros() : tf.initializers.constant({ value });
}
