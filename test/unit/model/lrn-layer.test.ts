import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalResponseNormalization } from '../../../src/model/lrn-layer.js';
import { randomValues, startWasm } from '../backends/wasm-test-backend.js';

/** b_c = a_c / (k + α Σ_{|j−c|≤r} a_j²)^β, written out as in the paper (§3.3). */
function referenceLrn(a: Float32Array, channels: number, r: number, k: number, alpha: number, beta: number): Float32Array {
  const b = new Float32Array(a.length);
  for (let p = 0; p < a.length; p += channels) {
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let j = Math.max(0, c - r); j <= Math.min(channels - 1, c + r); j++) {
        sum += (a[p + j] ?? 0) ** 2;
      }
      b[p + c] = (a[p + c] ?? 0) / (k + alpha * sum) ** beta;
    }
  }
  return b;
}

describe('LocalResponseNormalization layer', () => {
  beforeAll(startWasm);

  it.each(['cpu', 'wasm'])('matches the paper formula on %s (paper constants and others)', async (backend) => {
    await tf.setBackend(backend);
    const shape = [2, 3, 4, 11];
    // Large activations so that the normaliser differs visibly from k^β.
    const a = randomValues(shape.reduce((x, y) => x * y), 9).map((v) => v * 40);
    for (const args of [{}, { depthRadius: 1, bias: 1, alpha: 0.01, beta: 0.5 }, { depthRadius: 3, bias: 0.5, alpha: 0.002, beta: 1.2 }]) {
      const layer = new LocalResponseNormalization(args);
      const y = tf.tidy(() => (layer.apply(tf.tensor(a, shape)) as tf.Tensor).dataSync());
      const ref = referenceLrn(a, 11, layer.depthRadius, layer.bias, layer.alpha, layer.beta);
      for (let i = 0; i < ref.length; i++) {
        expect(y[i]).toBeCloseTo(ref[i] ?? NaN, 4);
      }
    }
  });

  it('defaults to the paper constants k=2, n=5, α=1e-4, β=0.75 and keeps them in its config', () => {
    const config = new LocalResponseNormalization({ name: 'lrn1' }).getConfig();
    expect(config).toMatchObject({ name: 'lrn1', depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 });
  });
});
