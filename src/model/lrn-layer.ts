import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Constructor arguments of {@link LocalResponseNormalization}; defaults are the paper's constants. */
export interface LrnLayerArgs extends LayerArgs {
  depthRadius?: number;
  bias?: number;
  alpha?: number;
  beta?: number;
}

/**
 * Local response normalisation across channels (Krizhevsky et al. 2012, §3.3):
 * b = a / (k + α Σ a²)^β over 2·depthRadius+1 neighbouring channels. α multiplies the plain
 * sum as in the paper and TensorFlow (Caffe divides it by n). Gradient: tf's LRNGrad kernel.
 */
export class LocalResponseNormalization extends tf.layers.Layer {
  static readonly className = 'LocalResponseNormalization';
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;

  constructor(args: LrnLayerArgs = {}) {
    super(args);
    this.depthRadius = args.depthRadius ?? 2;
    this.bias = args.bias ?? 2;
    this.alpha = args.alpha ?? 1e-4;
    this.beta = args.beta ?? 0.75;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!x) {
      throw new Error('LocalResponseNormalization expects one input');
    }
    return tf.localResponseNormalization(x as tf.Tensor4D, this.depthRadius, this.bias, this.alpha, this.beta);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), depthRadius: this.depthRadius, bias: this.bias, alpha: this.alpha, beta: this.beta };
  }
}

tf.serialization.registerClass(LocalResponseNormalization);
