// The text of `convnet-layers.js`, shipped in every exported model folder. It must stay plain, dependency-free
// JavaScript (an ES module that receives the caller's tfjs) and compute exactly what src/model's layers compute.

/** File name of the custom-layers module in an export. */
export const LAYERS_FILE = 'convnet-layers.js';

/** ES module source that registers LocalResponseNormalization and GroupedConv2D with a given tfjs. */
export const LAYERS_SOURCE = String.raw`// ConvNet Studio custom layers for plain TensorFlow.js (4.x): LocalResponseNormalization and GroupedConv2D.
// model.json names these two classes; tf.loadLayersModel can read it only after they are registered:
//
//   import * as tf from '@tensorflow/tfjs';
//   import { registerConvnetLayers } from './convnet-layers.js';
//   registerConvnetLayers(tf);
//
// With tfjs loaded by a <script> tag (a global tf), importing this module registers them on that tf by itself.
// Inference only: weights are created as zeros and then loaded from the model's shards.

const registered = new WeakMap();

/** Defines both layer classes on the given tfjs and registers them for deserialisation; returns the classes. */
export function registerConvnetLayers(tf) {
  if (registered.has(tf.serialization)) {
    return registered.get(tf.serialization);
  }

  // Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3):
  // b = a / (k + alpha * sum(a^2 over 2 * depthRadius + 1 channels))^beta.
  class LocalResponseNormalization extends tf.layers.Layer {
    static className = 'LocalResponseNormalization';

    constructor(args = {}) {
      super(args);
      this.depthRadius = args.depthRadius ?? 2;
      this.bias = args.bias ?? 2;
      this.alpha = args.alpha ?? 1e-4;
      this.beta = args.beta ?? 0.75;
    }

    call(inputs) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.localResponseNormalization(x, this.depthRadius, this.bias, this.alpha, this.beta);
    }

    computeOutputShape(inputShape) {
      return inputShape;
    }

    getConfig() {
      return { ...super.getConfig(), depthRadius: this.depthRadius, bias: this.bias, alpha: this.alpha, beta: this.beta };
    }
  }

  // 2-D convolution split into independent channel groups (AlexNet's two GPU towers in conv2, conv4, conv5).
  // Kernel layout [k, k, inChannels / groups, filters]; output channels of group g are the g-th block of filters / groups.
  class GroupedConv2D extends tf.layers.Layer {
    static className = 'GroupedConv2D';

    constructor(args) {
      super(args);
      this.filters = args.filters;
      this.kernelSize = args.kernelSize;
      this.strides = args.strides ?? 1;
      this.padding = args.padding ?? 'valid';
      this.groups = args.groups;
      this.activation = args.activation ?? 'relu';
      this.init = args.init ?? 'paper';
      this.paperBias = args.paperBias ?? 0;
      this.kernel = null;
      this.biasWeight = null;
    }

    build(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      const channels = shape[shape.length - 1];
      const k = this.kernelSize;
      this.kernel = this.addWeight('kernel', [k, k, channels / this.groups, this.filters], 'float32', tf.initializers.zeros());
      this.biasWeight = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    call(inputs) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.tidy(() => {
        const kernels = tf.split(this.kernel.read(), this.groups, 3);
        const biases = tf.split(this.biasWeight.read(), this.groups, 0);
        const xs = this.groups === 1 ? [x] : tf.split(x, this.groups, 3);
        const ys = xs.map((xg, g) =>
          tf.fused.conv2d({ x: xg, filter: kernels[g], bias: biases[g], strides: this.strides, pad: this.padding, activation: this.activation }),
        );
        return ys.length === 1 ? ys[0] : tf.concat(ys, 3);
      });
    }

    computeOutputShape(inputShape) {
      const shape = Array.isArray(inputShape[0]) ? inputShape[0] : inputShape;
      const out = (size) => {
        if (size == null) {
          return null;
        }
        return this.padding === 'same' ? Math.ceil(size / this.strides) : Math.floor((size - this.kernelSize) / this.strides) + 1;
      };
      return [shape[0] ?? null, out(shape[1]), out(shape[2]), this.filters];
    }

    getConfig() {
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

  tf.serialization.registerClass(LocalResponseNormalization);
  tf.serialization.registerClass(GroupedConv2D);
  const classes = { LocalResponseNormalization, GroupedConv2D };
  registered.set(tf.serialization, classes);
  return classes;
}

if (typeof globalThis !== 'undefined' && globalThis.tf && globalThis.tf.layers && globalThis.tf.serialization) {
  registerConvnetLayers(globalThis.tf);
}
`;
