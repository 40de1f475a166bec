import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../../src/model/index.js';
import { modelForward } from '../../../src/model/forward.js';
import { logitsOf } from '../../../src/train/loop.js';
import { randomValues, relativeError, startWasm } from '../backends/wasm-test-backend.js';

/** The logits as the layers API computes them (the trunk through `apply`, then the head's matmul + bias). */
function layersLogits(model: tf.LayersModel, x: tf.Tensor4D): tf.Tensor2D {
  const head = model.layers[model.layers.length - 1]!;
  const trunk = tf.model({ inputs: model.inputs, outputs: head.input as tf.SymbolicTensor });
  const [kernel, bias] = head.trainableWeights as [tf.LayerVariable, tf.LayerVariable];
  return tf.add(tf.matMul(trunk.apply(x, { training: true }) as tf.Tensor2D, kernel.read() as tf.Tensor2D), bias.read()) as tf.Tensor2D;
}

/** A small network with every layer kind the direct forward handles: strided/valid/linear convs, padding, pooling, dense relu. */
function mixedModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.inputLayer({ inputShape: [13, 13, 3] }));
  m.add(tf.layers.zeroPadding2d({ padding: 1 }));
  m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', biasInitializer: 'randomNormal' }));
  m.add(tf.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: 1, padding: 'same', activation: 'linear', biasInitializer: 'randomNormal' }));
  m.add(tf.layers.conv2d({ filters: 7, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 8, activation: 'relu', biasInitializer: 'randomNormal' }));
  m.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  return m;
}

describe('direct forward pass (fused conv + bias + ReLU) matches the layers API', () => {
  beforeAll(startWasm);

  it.each([
    { name: 'alexnet-small 32 px', make: () => buildModel('alexnet-small', { numClasses: 10, inputSize: 32, dropout: 0 }), shape: [3, 32, 32, 3] },
    { name: 'mixed layers', make: mixedModel, shape: [3, 13, 13, 3] },
  ])('$name: predictions and every weight gradient', ({ make, shape }) => {
    const model = make();
    const x = tf.tensor4d(randomValues(shape.reduce((a, b) => a * b, 1), 3), shape as [number, number, number, number]);
    const expected = model.predict(x) as tf.Tensor;
    const actual = tf.tidy(() => modelForward(model)(x, false));
    expect(relativeError(expected.dataSync() as Float32Array, actual.dataSync() as Float32Array)).toBeLessThan(1e-5);

    const labels = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), expected.shape[1] as number);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const logits = logitsOf(model);
    const ours = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, logits(x, true)) as tf.Scalar, vars);
    const ref = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, layersLogits(model, x)) as tf.Scalar, vars);
    expect(Math.abs(ours.value.dataSync()[0]! - ref.value.dataSync()[0]!)).toBeLessThan(1e-5);
    for (const v of vars) {
      const a = ref.grads[v.name]!.dataSync() as Float32Array;
      expect(relativeError(a, ours.grads[v.name]!.dataSync() as Float32Array), v.name).toBeLessThan(1e-4);
    }
    tf.dispose([x, expected, actual, labels, ours.value, ref.value, ...Object.values(ours.grads), ...Object.values(ref.grads)]);
    model.dispose();
  });

  it('dropout is on in training only', () => {
    const model = buildModel('alexnet-small', { numClasses: 10, inputSize: 32, dropout: 0.5 });
    const x = tf.tensor(randomValues(2 * 32 * 32 * 3, 5), [2, 32, 32, 3]) as tf.Tensor4D;
    const f = modelForward(model);
    const a = tf.tidy(() => f(x, false).dataSync());
    const b = tf.tidy(() => f(x, false).dataSync());
    expect(Array.from(a)).toEqual(Array.from(b));
    const logits = logitsOf(model);
    const t1 = tf.tidy(() => logits(x, true).dataSync());
    const t2 = tf.tidy(() => logits(x, true).dataSync());
    expect(Array.from(t1)).not.toEqual(Array.from(t2));
    x.dispose();
    model.dispose();
  });
});
