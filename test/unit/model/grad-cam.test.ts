// Grad-CAM's channel weights are the mean over positions of ∂(pre-softmax class score)/∂(layer output).
// Checked here against central differences on a small net: the layer's output is perturbed one value
// at a time and the rest of the network is run through the layers API (not the code under test).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { convLayerNames, defaultCamLayer, gradCam } from '../../../src/model/grad-cam.js';
import { LocalResponseNormalization } from '../../../src/model/lrn-layer.js';
import { Rng } from '../../../src/images/prng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * conv1 → LRN → pool → conv2 → flatten → fc (ReLU) → dropout → softmax over 3 classes, random weights.
 * conv1's bias keeps its outputs off zero: ties at 0 inside a max-pool window would be kinks that a
 * central difference halves.
 */
function smallNet(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ name: 'image', inputShape: [12, 12, 3] }));
  model.add(tf.layers.conv2d({ name: 'conv1', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 1 }), biasInitializer: tf.initializers.constant({ value: 2 }) }));
  model.add(new LocalResponseNormalization({ name: 'norm1', depthRadius: 2, bias: 2, alpha: 1e-2, beta: 0.75 }));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }));
  model.add(tf.layers.conv2d({ name: 'conv2', filters: 5, kernelSize: 3, padding: 'valid', activation: 'relu', kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 2 }), biasInitializer: tf.initializers.constant({ value: 0.1 }) }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'fc1', units: 6, activation: 'relu', kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 3 }), biasInitializer: tf.initializers.constant({ value: 0.1 }) }));
  model.add(tf.layers.dropout({ name: 'drop1', rate: 0.5 }));
  model.add(tf.layers.dense({ name: 'fc2', units: 3, activation: 'softmax', kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 4 }) }));
  return model;
}

function image(seed: number): tf.Tensor4D {
  const rng = Rng.fromSeed(seed, 'grad-cam-test');
  return tf.tensor4d(Float32Array.from({ length: 12 * 12 * 3 }, () => rng.next() * 2 - 1), [1, 12, 12, 3]);
}

/** The layers after `layer`, through the layers API, to the pre-softmax scores (or the softmax when `softmax`). */
function scoresFrom(model: tf.LayersModel, layer: string, softmax = false): (a: tf.Tensor) => Float32Array {
  const at = model.layers.findIndex((l) => l.name === layer);
  const rest = model.layers.slice(at + 1, -1);
  const last = model.layers[model.layers.length - 1]!;
  const [w, b] = last.getWeights() as [tf.Tensor2D, tf.Tensor1D];
  return (a) =>
    tf.tidy(() => {
      let h = a;
      for (const l of rest) {
        h = l.apply(h, { training: false }) as tf.Tensor;
      }
      const z = tf.add(tf.matMul(h as tf.Tensor2D, w), b);
      return (softmax ? tf.softmax(z) : z).dataSync() as Float32Array;
    });
}

/** α_k by central differences: mean over positions of (y_c(A + εe) − y_c(A − εe)) / 2ε. */
function numericalWeights(model: tf.LayersModel, x: tf.Tensor4D, layer: string, c: number, softmax = false): Float32Array {
  const act = tf.tidy(() => tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor }).predict(x) as tf.Tensor4D);
  const [, h, w, k] = act.shape;
  const a = act.dataSync() as Float32Array;
  act.dispose();
  const score = scoresFrom(model, layer, softmax);
  const eps = 2e-3;
  const weights = new Float32Array(k);
  for (let i = 0; i < a.length; i++) {
    const at = (delta: number): number => {
      const b = Float32Array.from(a);
      b[i]! += delta;
      const t = tf.tensor4d(b, [1, h, w, k]);
      const y = score(t)[c]!;
      t.dispose();
      return y;
    };
    weights[i % k]! += (at(eps) - at(-eps)) / (2 * eps) / (h * w);
  }
  return weights;
}

describe('gradCam', () => {
  const model = smallNet();

  it('lists the convolution layers and defaults to the last', () => {
    expect(convLayerNames(model)).toEqual(['conv1', 'conv2']);
    expect(defaultCamLayer(model)).toBe('conv2');
  });

  for (const layer of ['conv1', 'conv2']) {
    for (const c of [undefined, 0, 2]) {
      it(`channel weights at ${layer} for ${c === undefined ? 'the top-1 class' : `class ${c}`} match a numerical gradient of the pre-softmax score`, () => {
        const x = image(layer.length + (c ?? 7));
        const cam = gradCam(model, x, layer, c);
        const probs = (model.predict(x) as tf.Tensor).dataSync();
        const expectedClass = c ?? probs.indexOf(Math.max(...probs));
        expect(cam.classIndex).toBe(expectedClass);
        expect(Array.from(cam.probabilities).map((p) => +p.toFixed(5))).toEqual(Array.from(probs).map((p) => +p.toFixed(5)));
        const numeric = numericalWeights(model, x, layer, expectedClass);
        const scale = Math.max(...numeric.map(Math.abs));
        expect(scale).toBeGreaterThan(1e-3);
        cam.weights.forEach((wk, k) => expect(Math.abs(wk - numeric[k]!)).toBeLessThan(2e-3 * scale + 1e-5));
        // The softmax's gradient is a different vector: the check above can tell the two apart.
        const viaSoftmax = numericalWeights(model, x, layer, expectedClass, true);
        expect(Math.max(...Array.from(viaSoftmax, (v, k) => Math.abs(v - numeric[k]!)))).toBeGreaterThan(1e-2 * scale);
        // The map is ReLU(Σ_k α_k A^k) on the layer's grid.
        const act = tf.model({ inputs: model.inputs, outputs: model.getLayer(layer).output as tf.SymbolicTensor }).predict(x) as tf.Tensor4D;
        const a = act.dataSync();
        const k = act.shape[3];
        expect([cam.height, cam.width]).toEqual([act.shape[1], act.shape[2]]);
        for (let p = 0; p < cam.height * cam.width; p++) {
          let s = 0;
          for (let ch = 0; ch < k; ch++) {
            s += cam.weights[ch]! * a[p * k + ch]!;
          }
          expect(cam.map[p]).toBeCloseTo(Math.max(0, s), 4);
        }
        act.dispose();
        x.dispose();
      });
    }
  }

  it('names the convolution layers when asked for another', () => {
    const x = image(1);
    expect(() => gradCam(model, x, 'fc1')).toThrow('The network has no convolution layer "fc1"; its convolution layers are conv1, conv2.');
    expect(() => gradCam(model, x, 'conv2', 3)).toThrow('Class index 3 is outside the network\'s 3 classes.');
    x.dispose();
  });
});
