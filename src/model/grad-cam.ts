// Grad-CAM (Selvaraju et al., ICCV 2017): which places in an image drove a class's score. The gradient
// of the class's pre-softmax score y^c with respect to a convolution layer's output A (after its ReLU)
// is averaged over the layer's positions to one weight per channel, α_k = mean_ij ∂y^c/∂A^k_ij; the map
// is ReLU(Σ_k α_k A^k) on the layer's grid. The network is split at the layer and run as plain tfjs ops
// on the layers' own weights (model/forward.ts), so the gradient flows through the same computation
// that classifies.
import * as tf from '@tensorflow/tfjs';
import { forwardOf, type Forward } from './forward.js';

const CONV_CLASSES = new Set(['Conv2D', 'GroupedConv2D']);

/** Names of a network's convolution layers in network order: the layers Grad-CAM can look at. */
export function convLayerNames(model: tf.LayersModel): string[] {
  return model.layers.filter((l) => CONV_CLASSES.has(l.getClassName())).map((l) => l.name);
}

/** The layer Grad-CAM uses when none is named: the last convolution (the paper's choice). */
export function defaultCamLayer(model: tf.LayersModel): string {
  const names = convLayerNames(model);
  if (names.length === 0) {
    throw new Error('This network has no convolution layer to explain.');
  }
  return names[names.length - 1]!;
}

/** Grad-CAM of one image for one class at one layer. */
export interface GradCam {
  layer: string;
  /** The class explained (the top-1 unless one was asked for). */
  classIndex: number;
  /** Softmax probabilities of every class. */
  probabilities: Float32Array;
  /** α_k: one weight per channel of the layer. */
  weights: Float32Array;
  /** ReLU(Σ_k α_k A^k), row-major on the layer's grid (not normalised). */
  map: Float32Array;
  height: number;
  width: number;
}

/** The network from a layer's output to the pre-softmax class scores ("logits"). */
function scoresAfter(model: tf.LayersModel, at: number): Forward {
  const layers = model.layers;
  const last = layers[layers.length - 1]!;
  const config = last.getConfig() as Record<string, unknown>;
  if (last.getClassName() === 'Activation' && config.activation === 'softmax') {
    return forwardOf(layers.slice(at + 1, -1));
  }
  if (last.getClassName() !== 'Dense' || !['softmax', 'linear'].includes(String(config.activation)) || last.weights.length !== 2) {
    throw new Error(`Grad-CAM needs a network that ends in a softmax over class scores; this one ends in a ${last.getClassName()} layer (${String(config.activation)}).`);
  }
  const middle = forwardOf(layers.slice(at + 1, -1));
  const [kernel, bias] = last.weights as [tf.LayerVariable, tf.LayerVariable];
  return (x, training) => {
    const h = middle(x, training);
    const flat = h.rank === 2 ? (h as tf.Tensor2D) : (tf.reshape(h, [h.shape[0] as number, -1]) as tf.Tensor2D);
    return tf.add(tf.matMul(flat, kernel.read() as tf.Tensor2D), bias.read());
  };
}

/**
 * Grad-CAM of `x` (one image, [1, n, n, 3], normalised as the network was trained) at convolution layer
 * `layer` for class `classIndex` (default: the most probable).
 */
export function gradCam(model: tf.LayersModel, x: tf.Tensor4D, layer: string, classIndex?: number): GradCam {
  const convs = convLayerNames(model);
  if (!convs.includes(layer)) {
    throw new Error(`The network has no convolution layer "${layer}"; its convolution layers are ${convs.join(', ')}.`);
  }
  if (x.shape[0] !== 1) {
    throw new Error(`Grad-CAM explains one image at a time, got a batch of ${x.shape[0]}.`);
  }
  const at = model.layers.findIndex((l) => l.name === layer);
  const head = forwardOf(model.layers.slice(0, at + 1));
  const scores = scoresAfter(model, at);
  return tf.tidy(() => {
    const a = head(x, false) as tf.Tensor4D;
    const logits = scores(a, false) as tf.Tensor2D;
    const classes = logits.shape[1];
    const probabilities = tf.softmax(logits).dataSync() as Float32Array;
    const c = classIndex ?? probabilities.indexOf(Math.max(...probabilities));
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new Error(`Class index ${c} is outside the network's ${classes} classes.`);
    }
    const dA = tf.grad((act: tf.Tensor) => tf.sum(tf.slice(scores(act, false) as tf.Tensor2D, [0, c], [1, 1])))(a);
    const weights = tf.mean(dA, [0, 1, 2]);
    const map = tf.relu(tf.sum(tf.mul(a, weights), -1));
    const [, height, width] = a.shape;
    return {
      layer,
      classIndex: c,
      probabilities: Float32Array.from(probabilities),
      weights: Float32Array.from(weights.dataSync()),
      map: Float32Array.from(map.dataSync()),
      height,
      width,
    };
  });
}
