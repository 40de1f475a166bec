import * as tf from '@tensorflow/tfjs';
import { biasInitializer, kernelInitializer, type InitScheme } from './initializers.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** Constructor arguments of {@link GroupedConv2D}. */
export interface GroupedConv2DArgs extends LayerArgs {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  groups: number;
  activation?: 'relu' | 'linear';
  init?: InitScheme;
  /** Bias value under the paper's init. */
  paperBias?: number;
}

/** Grouped 2-D convolution + bias + activation of NHWC `x` with a [k, k, inChannels / groups, filters] kernel. */
export function groupedConv2d(
  x: tf.Tensor4D,
  kernel: tf.Tensor4D,
  bias: tf.Tensor1D,
  o: { groups: number; strides: number; padding: 'same' | 'valid'; activation: 'relu' | 'linear' },
): tf.Tensor4D {
  return tf.tidy(() => {
    const kernels = tf.split(kernel, o.groups, 3);
    const biases = tf.split(bias, o.groups, 0);
    const xs: tf.Tensor4D[] = o.groups === 1 ? [x] : tf.split(x, o.groups, 3);
    const ys = xs.map((xg, g) =>
      tf.fused.conv2d({ x: xg, filter: kernels[g] as tf.Tensor4D, bias: biases[g], strides: o.strides, pad: o.padding, activation: o.activation }),
    );
    return ys.length === 1 ? (ys[0] as tf.Tensor4D) : tf.concat(ys, 3);
  });
}

/**
 * 2-D convolution whose channels are split into `groups` independent towers, as AlexNet's
 * conv2/4/5 were split across two GPUs (tf.layers.conv2d has no `groups`). The kernel has
 * Keras' grouped layout [k, k, inChannels / groups, filters]; output channels of group g are
 * the g-th block of `filters / groups`.
 */
export class GroupedConv2D extends tf.layers.Layer {
  static readonly className = 'GroupedConv2D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: 'same' | 'valid';
  readonly groups: number;
  readonly activation: 'relu' | 'linear';
  readonly init: InitScheme;
  readonly paperBias: number;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(args: GroupedConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.padding = args.padding ?? 'valid';
    this.groups = args.groups;
    this.activation = args.activation ?? 'relu';
    this.init = args.init ?? 'paper';
    this.paperBias = args.paperBias ?? 0;
    if (this.filters % this.groups !== 0) {
      throw new Error(`GroupedConv2D: ${this.filters} filters do not split into ${this.groups} groups`);
    }
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null || channels % this.groups !== 0) {
      throw new Error(`GroupedConv2D: ${channels} input channels do not split into ${this.groups} groups`);
    }
    const k = this.kernelSize;
    this.kernel = this.addWeight('kernel', [k, k, channels / this.groups, this.filters], 'float32', kernelInitializer(this.init));
    this.bias = this.addWeight('bias', [this.filters], 'float32', biasInitializer(this.init, this.paperBias));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    if (!this.kernel || !this.bias) {
      throw new Error('GroupedConv2D called before build');
    }
    return groupedConv2d(x, this.kernel.read() as tf.Tensor4D, this.bias.read() as tf.Tensor1D, this);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [batch, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const out = (size: number | null | undefined): number | null => {
      if (size == null) {
        return null;
      }
      return this.padding === 'same' ? Math.ceil(size / this.strides) : Math.floor((size - this.kernelSize) / this.strides) + 1;
    };
    return [batch ?? null, out(h), out(w), this.filters];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernelSize: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      groups: this.groups,
      activation: this.activation,
      init: this.init,
      paperBias: this.paperBias,
    };
  }
}

tf.serialization.registerClass(GroupedConv2D);
