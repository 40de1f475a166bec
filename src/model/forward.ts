// The network's forward pass as plain tfjs ops on the layers' own weights, for training and inference.
// The layers API adds per-layer bookkeeping to every call, and in training tfjs-core un-fuses a
// convolution's bias and ReLU (three kernels and three saved copies per layer). Here a conv + bias +
// ReLU is one FusedConv2D kernel in both modes, with its gradient written out (ReLU mask, bias sum,
// the two convolution gradients). The model itself is unchanged: same layers, weights, saved format.
// Layers this file does not know (e.g. GroupedConv2D) run through their own `apply`.
import * as tf from '@tensorflow/tfjs';
import { LRN_TRAIN_GRAD_KERNEL, LRN_TRAIN_KERNEL, RELU_BIAS_GRAD_KERNEL } from './training-kernels.js';

/** One layer's computation: `needsInputGrad` is false while x does not depend on any weight (the data). */
type Step = (x: tf.Tensor, training: boolean, needsInputGrad: boolean, seed?: number) => tf.Tensor;

interface ConvAttrs {
  strides: [number, number];
  pad: 'same' | 'valid';
}

/** The gradient through ReLU(z + b): [dz, db], dz = dy·step(y), db = dz summed over batch, height and width; one kernel where the backend has it. */
function reluBiasGrad(dy: tf.Tensor4D, y: tf.Tensor4D): [tf.Tensor4D, tf.Tensor1D] {
  if (tf.getKernel(RELU_BIAS_GRAD_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(RELU_BIAS_GRAD_KERNEL, { dy, y }, {}) as unknown as [tf.Tensor4D, tf.Tensor1D];
  }
  const dz = tf.mul(dy, tf.step(y)) as tf.Tensor4D;
  return [dz, tf.sum(dz, [0, 1, 2])];
}

/**
 * LRN in training where the backend keeps N^−1/4 for the gradient (β = 0.75, the paper's): y, with a
 * gradient that needs no square root or division; elsewhere tfjs' LRN and LRNGrad.
 */
function lrnTrained(x: tf.Tensor4D, depthRadius: number, bias: number, alpha: number, beta: number): tf.Tensor4D {
  if (beta !== 0.75 || tf.getKernel(LRN_TRAIN_KERNEL, tf.getBackend()) === undefined) {
    return tf.localResponseNormalization(x, depthRadius, bias, alpha, beta);
  }
  const attrs = { depthRadius, bias, alpha, beta } as unknown as tf.NamedAttrMap;
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xx, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
    const [y, rho] = tf.engine().runKernel(LRN_TRAIN_KERNEL, { x: xx }, attrs) as unknown as [tf.Tensor4D, tf.Tensor4D];
    save([xx, y, rho]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => tf.engine().runKernel(LRN_TRAIN_GRAD_KERNEL, { x: s[0]!, y: s[1]!, rho: s[2]!, dy }, attrs) as tf.Tensor,
    };
  });
  return f(x) as tf.Tensor4D;
}

/** conv2d + bias + ReLU as one FusedConv2D kernel, with its gradient (x's only when asked for). */
function convReluTrained(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, a: ConvAttrs, needsInputGrad: boolean): tf.Tensor4D {
  const attrs = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dilations: [1, 1], activation: 'relu' };
  const forward = (xx: tf.Tensor4D, ww: tf.Tensor4D, bb: tf.Tensor1D) =>
    tf.engine().runKernel('FusedConv2D', { x: xx, filter: ww, bias: bb }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  const grads = (dy: tf.Tensor4D, xx: tf.Tensor4D, ww: tf.Tensor4D, y: tf.Tensor4D, withInput: boolean): tf.Tensor[] => {
    const [dz, db] = reluBiasGrad(dy, y);
    const common = { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dilations: [1, 1] };
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: xx, dy: dz }, { ...common, filterShape: ww.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    if (!withInput) {
      return [dw, db];
    }
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: ww }, { ...common, inputShape: xx.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
    return [dx, dw, db];
  };
  if (needsInputGrad) {
    const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [xx, ww, bb, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
      const y = forward(xx, ww, bb);
      save([xx, ww, y]);
      return { value: y, gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => grads(dy as tf.Tensor4D, s[0] as tf.Tensor4D, s[1] as tf.Tensor4D, s[2] as tf.Tensor4D, true) };
    });
    return f(x, w, b) as tf.Tensor4D;
  }
  // The data: no gradient for x, so it is not an input of the custom op (its gradient is never computed).
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [ww, bb, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.GradSaveFunc];
    const y = forward(x, ww, bb);
    save([x, ww, y]);
    return { value: y, gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => grads(dy as tf.Tensor4D, s[0] as tf.Tensor4D, s[1] as tf.Tensor4D, s[2] as tf.Tensor4D, false) };
  });
  return f(w, b) as tf.Tensor4D;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)]);
const fallback = (layer: tf.layers.Layer): Step => (x, training) => layer.apply(x, { training }) as tf.Tensor;

function stepOf(layer: tf.layers.Layer): Step | null {
  const config = layer.getConfig() as Record<string, unknown>;
  const weights = layer.weights;
  const channelsLast = config.dataFormat === undefined || config.dataFormat === 'channelsLast';
  switch (layer.getClassName()) {
    case 'InputLayer':
      return null;
    case 'Conv2D': {
      const activation = config.activation as string;
      const plain = channelsLast && config.useBias === true && pair(config.dilationRate ?? 1).every((d) => d === 1) && (activation === 'relu' || activation === 'linear');
      if (!plain || weights.length !== 2 || (config.padding !== 'same' && config.padding !== 'valid')) {
        return fallback(layer);
      }
      const a: ConvAttrs = { strides: pair(config.strides), pad: config.padding };
      const [kernel, bias] = weights as [tf.LayerVariable, tf.LayerVariable];
      return (x, training, needsInputGrad) => {
        const w = kernel.read() as tf.Tensor4D;
        const b = bias.read() as tf.Tensor1D;
        if (training && activation === 'relu') {
          return convReluTrained(x as tf.Tensor4D, w, b, a, needsInputGrad);
        }
        return tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w, bias: b, strides: a.strides, pad: a.pad, activation: activation as 'relu' | 'linear' });
      };
    }
    case 'Dense': {
      const activation = config.activation as string;
      if (config.useBias !== true || weights.length !== 2 || !['relu', 'linear', 'softmax'].includes(activation)) {
        return fallback(layer);
      }
      const [kernel, bias] = weights as [tf.LayerVariable, tf.LayerVariable];
      return (x) => {
        const a = x.rank === 2 ? (x as tf.Tensor2D) : (tf.reshape(x, [-1, x.shape[x.rank - 1] as number]) as tf.Tensor2D);
        const b = kernel.read() as tf.Tensor2D;
        const fused = activation === 'relu' ? 'relu' : 'linear';
        const y = tf.fused.matMul({ a, b, bias: bias.read(), activation: fused });
        return activation === 'softmax' ? tf.softmax(y) : y;
      };
    }
    case 'MaxPooling2D': {
      if (!channelsLast) {
        return fallback(layer);
      }
      const pool = pair(config.poolSize);
      const strides = pair(config.strides ?? config.poolSize);
      const pad = config.padding as 'same' | 'valid';
      return (x) => tf.maxPool(x as tf.Tensor4D, pool, strides, pad);
    }
    case 'Flatten':
      return channelsLast ? (x) => tf.reshape(x, [x.shape[0] as number, -1]) : fallback(layer);
    case 'Dropout': {
      const rate = Number(config.rate);
      if (config.noiseShape != null) {
        return fallback(layer);
      }
      // A seed gives the same mask for the same step (a resumed or repeated run); without one, a fresh mask.
      return (x, training, _needs, seed) => (training && rate > 0 && rate < 1 ? tf.dropout(x, rate, undefined, seed) : x);
    }
    case 'ZeroPadding2D': {
      const p = config.padding as [[number, number], [number, number]];
      if (!channelsLast || !Array.isArray(p) || !Array.isArray(p[0])) {
        return fallback(layer);
      }
      return (x) => tf.pad(x, [[0, 0], p[0], p[1], [0, 0]]);
    }
    case 'LocalResponseNormalization': {
      const { depthRadius, bias, alpha, beta } = config as { depthRadius: number; bias: number; alpha: number; beta: number };
      return (x, training) => (training ? lrnTrained(x as tf.Tensor4D, depthRadius, bias, alpha, beta) : tf.localResponseNormalization(x as tf.Tensor4D, depthRadius, bias, alpha, beta));
    }
    default:
      return fallback(layer);
  }
}

/** A forward function: `training` switches dropout and the training gradient path; `seed` (training) fixes the dropout masks of this step. */
export type Forward = (x: tf.Tensor, training: boolean, seed?: number) => tf.Tensor;

/** A function computing `layers` in order on a batch. */
export function forwardOf(layers: readonly tf.layers.Layer[]): Forward {
  const steps = layers.map((layer) => ({ step: stepOf(layer), trainable: layer.trainableWeights.length > 0 }));
  return (x, training, seed) => {
    let h = x;
    let dependsOnWeights = false;
    steps.forEach(({ step, trainable }, i) => {
      if (step) {
        // Each layer its own stream: the same step seed must not give two dropout layers one mask.
        h = step(h, training, dependsOnWeights, seed === undefined ? undefined : (seed + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
        dependsOnWeights ||= trainable;
      }
    });
    return h;
  };
}

const whole = new WeakMap<tf.LayersModel, Forward>();

/** The whole model's output (e.g. softmax probabilities) for a batch, without the layers API's per-call overhead. */
export function modelForward(model: tf.LayersModel): Forward {
  let f = whole.get(model);
  if (!f) {
    f = forwardOf(model.layers);
    whole.set(model, f);
  }
  return f;
}
