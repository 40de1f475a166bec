// evaluateSource runs the network as plain ops (model/forward.ts), split at the feature layer: its
// probabilities and fc7 features must be the layers API's, for single views and ten-crop batches.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateSource } from '../../../src/evaluate/evaluate.js';
import { FEATURE_LAYER } from '../../../src/evaluate/features.js';
import type { Batch, BatchSource } from '../../../src/images/batch-source.js';
import { buildModel } from '../../../src/model/index.js';
import { randomValues, startWasm } from '../backends/wasm-test-backend.js';

beforeAll(startWasm);

/** One batch of `n` images × `views` views, then the end of the epoch. */
function oneBatch(x: Float32Array, n: number, views: number, size: number): BatchSource {
  let given = false;
  const batch: Batch = { x, shape: [n * views, size, size, 3], labels: Int32Array.from({ length: n }, (_, i) => i % 5), ids: Int32Array.from({ length: n }, (_, i) => i + 1), views };
  return { batchesPerEpoch: 1, next: async () => (given ? null : ((given = true), batch)), close: async () => undefined };
}

describe('evaluateSource on the direct forward path', () => {
  for (const views of [1, 10]) {
    it(`probabilities and ${FEATURE_LAYER} features equal the layers API's (${views} view${views > 1 ? 's' : ''} per image)`, async () => {
      const size = 32;
      const n = 3;
      const model = buildModel('alexnet-small', { numClasses: 5, inputSize: size });
      const x = randomValues(n * views * size * size * 3, 7);
      const got = await evaluateSource(model, oneBatch(x, n, views, size), 5, { collect: true, featureLayer: FEATURE_LAYER });
      const sub = tf.model({ inputs: model.inputs, outputs: [model.getLayer(FEATURE_LAYER).output as tf.SymbolicTensor, model.outputs[0]!] });
      const [feat, probs] = tf.tidy(() => {
        const [f, p] = sub.predict(tf.tensor4d(x, [n * views, size, size, 3])) as tf.Tensor[];
        return [f!.reshape([n, views, -1]).mean(1), p!.reshape([n, views, 5]).mean(1)];
      });
      const want = { probs: (await probs!.data()) as Float32Array, feat: (await feat!.data()) as Float32Array };
      tf.dispose([feat!, probs!]);
      expect(got.featureDim).toBe(want.feat.length / n);
      const worst = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!) / (Math.abs(b[i]!) + 1e-3)), 0);
      expect(worst(got.probs!, want.probs)).toBeLessThan(1e-3);
      expect(worst(got.features!, want.feat)).toBeLessThan(1e-3);
      expect(Array.from(got.ids!)).toEqual([1, 2, 3]);
      model.dispose();
    });
  }

  it('names a missing feature layer', async () => {
    const model = buildModel('alexnet-small', { numClasses: 5, inputSize: 32 });
    await expect(evaluateSource(model, oneBatch(new Float32Array(32 * 32 * 3), 1, 1, 32), 5, { featureLayer: 'fc99' })).rejects.toThrow('The model has no layer named fc99.');
    model.dispose();
  });
});
