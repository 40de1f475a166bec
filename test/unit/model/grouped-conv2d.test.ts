import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GroupedConv2D } from '../../../src/model/grouped-conv2d.js';
import { LocalResponseNormalization } from '../../../src/model/lrn-layer.js';
import { randomValues, relativeError, startWasm } from '../backends/wasm-test-backend.js';

describe('GroupedConv2D', () => {
  beforeAll(startWasm);

  it('equals one convolution per tower on its half of the channels', () => {
    const layer = new GroupedConv2D({ filters: 6, kernelSize: 3, padding: 'same', groups: 2, activation: 'linear', init: 'he' });
    const x = tf.tensor(randomValues(2 * 5 * 5 * 4, 11), [2, 5, 5, 4]) as tf.Tensor4D;
    const y = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D];
    expect(kernel.shape).toEqual([3, 3, 2, 6]);
    const tower = (g: number) =>
      tf.add(
        tf.conv2d(tf.slice(x, [0, 0, 0, 2 * g], [-1, -1, -1, 2]), tf.slice(kernel, [0, 0, 0, 3 * g], [-1, -1, -1, 3]), 1, 'same'),
        tf.slice(bias, [3 * g], [3]),
      );
    const expected = tf.concat([tower(0), tower(1)], 3);
    expect(relativeError(expected.dataSync() as Float32Array, y.dataSync() as Float32Array)).toBeLessThan(1e-6);
  });

  it('rejects channel counts that do not split into the groups', () => {
    expect(() => new GroupedConv2D({ filters: 5, kernelSize: 3, groups: 2 })).toThrow(/groups/);
    const layer = new GroupedConv2D({ filters: 4, kernelSize: 3, groups: 2 });
    expect(() => layer.apply(tf.zeros([1, 5, 5, 3]))).toThrow(/groups/);
  });

  it('a model with LRN and grouped convolutions saves and loads in TF.js layers format', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.inputLayer({ inputShape: [12, 12, 4] }),
        new GroupedConv2D({ name: 'conv', filters: 8, kernelSize: 3, strides: 2, padding: 'valid', groups: 2, init: 'paper', paperBias: 1 }),
        new LocalResponseNormalization({ name: 'lrn' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    expect(JSON.stringify(saved?.modelTopology)).toContain('"class_name":"GroupedConv2D"');
    expect(JSON.stringify(saved?.modelTopology)).toContain('"class_name":"LocalResponseNormalization"');
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    const conv = loaded.getLayer('conv') as GroupedConv2D;
    expect([conv.groups, conv.strides, conv.padding, conv.paperBias]).toEqual([2, 2, 'valid', 1]);
    const x = tf.tensor(randomValues(3 * 12 * 12 * 4, 12).map((v) => v * 30), [3, 12, 12, 4]);
    const before = (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    const after = (loaded.predict(x) as tf.Tensor).dataSync() as Float32Array;
    expect(relativeError(before, after)).toBe(0);
  });
});
