import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARCHS, buildModel, describeModel, type ArchName } from '../../../src/model/index.js';
import { startWasm } from '../backends/wasm-test-backend.js';

const ARCH_NAMES = Object.keys(ARCHS) as ArchName[];

describe('architectures', () => {
  beforeAll(startWasm);
  afterEach(() => tf.disposeVariables());

  it('alexnet-2012 has 60,965,224 parameters for 1000 classes (the paper\'s "60 million")', () => {
    const rows = describeModel('alexnet-2012', { numClasses: 1000 });
    expect(rows.reduce((n, r) => n + r.params, 0)).toBe(60_965_224);
    const model = buildModel('alexnet-2012', { numClasses: 1000 });
    expect(model.countParams()).toBe(60_965_224);
  });

  it('single-tower alexnet matches torchvision: 61,100,840 parameters', () => {
    expect(buildModel('alexnet', { numClasses: 1000 }).countParams()).toBe(61_100_840);
  });

  it('alexnet-2012 has the paper\'s feature-map sizes: 55, 27, 13, 6', () => {
    const shapes = Object.fromEntries(describeModel('alexnet-2012', { numClasses: 1000 }).map((r) => [r.spec.name, r.outputShape]));
    expect(shapes.conv1).toEqual([55, 55, 96]);
    expect(shapes.conv2).toEqual([27, 27, 256]);
    expect(shapes.conv5).toEqual([13, 13, 256]);
    expect(shapes.pool5).toEqual([6, 6, 256]);
    expect(shapes.fc8).toEqual([1000]);
  });

  it.each(ARCH_NAMES.flatMap((arch) => [true, false].map((lrn) => ({ arch, lrn }))))(
    '$arch (lrn $lrn): described shapes and parameter counts are the built model\'s',
    ({ arch, lrn }) => {
      // 127 px keeps the 224-px networks' fc6 small; the layer structure is the same.
      const options = { numClasses: 7, lrn, inputSize: arch === 'alexnet-small' ? 48 : 127 };
      const model = buildModel(arch, options);
      for (const row of describeModel(arch, options)) {
        const layer = model.getLayer(row.spec.name);
        expect(layer.outputShape, row.spec.name).toEqual([null, ...row.outputShape]);
        expect(layer.countParams(), row.spec.name).toBe(row.params);
      }
      expect(model.layers.some((l) => l.getClassName() === 'LocalResponseNormalization')).toBe(lrn);
    },
  );

  it.each(ARCH_NAMES)('%s: a forward pass gives softmax rows of numClasses', (arch) => {
    const size = ARCHS[arch].defaultInputSize;
    const model = buildModel(arch, { numClasses: 5 });
    const y = tf.tidy(() => model.predict(tf.randomNormal([2, size, size, 3])) as tf.Tensor);
    expect(y.shape).toEqual([2, 5]);
    for (const s of tf.tidy(() => y.sum(1)).dataSync()) {
      expect(s).toBeCloseTo(1, 5);
    }
    y.dispose();
  });

  it('alexnet-small takes 32 and 64 px inputs', () => {
    for (const inputSize of [32, 64]) {
      const rows = describeModel('alexnet-small', { numClasses: 10, inputSize });
      expect(rows.at(-1)?.outputShape).toEqual([10]);
    }
    expect(describeModel('alexnet-small', { numClasses: 10, inputSize: 32 }).find((r) => r.spec.name === 'pool5')?.outputShape).toEqual([3, 3, 64]);
  });

  it('rejects inputs too small for the topology, bad class counts and dropout rates with clear errors', () => {
    expect(() => buildModel('alexnet-2012', { numClasses: 10, inputSize: 32 })).toThrow(/input size 32 is too small/);
    expect(() => buildModel('alexnet-small', { numClasses: 1 })).toThrow(/numClasses/);
    expect(() => buildModel('alexnet-small', { numClasses: 10, dropout: 1 })).toThrow(/dropout/);
    expect(() => buildModel('nope' as ArchName, { numClasses: 10 })).toThrow(/unknown architecture/);
  });

  it('dropout 0 removes the dropout layers; other rates are applied', () => {
    const layers = (dropout: number) => describeModel('alexnet-small', { numClasses: 10, dropout }).filter((r) => r.spec.kind === 'dropout');
    expect(layers(0)).toHaveLength(0);
    expect(layers(0.3).map((r) => (r.spec.kind === 'dropout' ? r.spec.rate : 0))).toEqual([0.3, 0.3]);
  });

  it('returns uncompiled models and consistent metadata', () => {
    for (const arch of ARCH_NAMES) {
      const info = ARCHS[arch];
      expect(info.name).toBe(arch);
      expect(info.defaultPackSize).toBeGreaterThan(info.defaultInputSize);
    }
    const model = buildModel('alexnet-small', { numClasses: 3 });
    expect(model.optimizer).toBeUndefined();
  });
});
