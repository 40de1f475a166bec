import * as tf from '@tensorflow/tfjs';

/** A tf.layers weight initializer. */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Weight initialisation scheme: the paper's N(0, 0.01) with bias 1 in conv2/4/5 and FC hidden layers, or He (fan-in) normal with zero biases. */
export type InitScheme = 'paper' | 'he';

/** The kernel initializer of a scheme (seeded: the same draw every time). */
export function kernelInitializer(scheme: InitScheme, seed?: number): Initializer {
  const s = seed === undefined ? {} : { seed };
  return scheme === 'paper' ? tf.initializers.randomNormal({ mean: 0, stddev: 0.01, ...s }) : tf.initializers.heNormal(s);
}

/**
 * Draws every kernel of a freshly built model again from `scheme` with a seed per weight derived from
 * `seed`, so that a run's starting weights follow from its config (biases are constants already).
 */
export function seedKernels(model: tf.LayersModel, scheme: InitScheme, seed: number): void {
  model.trainableWeights.forEach((w, i) => {
    if (w.originalName.endsWith('/kernel')) {
      const init = kernelInitializer(scheme, (Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0);
      tf.tidy(() => {
        w.write(init.apply(w.shape, 'float32'));
      });
    }
  });
}

/** The bias initializer of a scheme for a layer whose paper bias is `paperBias`. */
export function biasInitializer(scheme: InitScheme, paperBias: number): Initializer {
  const value = scheme === 'paper' ? paperBias : 0;
  return value === 0 ? tf.initializers.zeros() : tf.initializers.constant({ value });
}
