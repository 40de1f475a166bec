// Our own ONNX export read back by the importer that reads pretrained AlexNets (#17): same network, same numbers.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClassifierSpec } from '../../../src/classify/spec.js';
import { onnxModelOf } from '../../../src/interchange/onnx-export.js';
import { encodeOnnxModel } from '../../../src/interchange/onnx-proto.js';
import { modelForward } from '../../../src/model/forward.js';
import { buildModel, type ArchName } from '../../../src/model/index.js';
import { buildImported } from '../../../src/pretrained/imported-network.js';
import { alexnetFromOnnx } from '../../../src/pretrained/onnx-alexnet.js';
import { normals, randomizeWeights } from '../../helpers/onnx-weights.js';

/** A seeded network exported to ONNX, imported back, and the same batch through both: max |Δprob| and top-1 agreement. */
async function roundTrip(arch: ArchName, lrn: boolean, inputSize: number): Promise<{ maxDiff: number; top1: number; spread: number; spec: ClassifierSpec; importedSpec: ClassifierSpec; specs: string[]; importedSpecs: string[] }> {
  const classes = 7;
  const spec: ClassifierSpec = {
    classes: Array.from({ length: classes }, (_, i) => `class ${i}`).reverse(),
    inputSize,
    resizeSize: inputSize + 6,
    norm: { mean: [121, 114, 99], std: [58, 61, 63] },
    arch,
    runId: 11,
  };
  const model = buildModel(arch, { numClasses: classes, lrn, inputSize, init: 'he' });
  const n = 6;
  const draw = normals(9);
  const x = tf.tensor4d(Float32Array.from({ length: n * inputSize * inputSize * 3 }, () => draw() * 60), [n, inputSize, inputSize, 3]);
  randomizeWeights(model, 23, x);
  const net = alexnetFromOnnx(encodeOnnxModel(onnxModelOf(model, spec)));
  const imported = buildImported(net);
  const ours = tf.tidy(() => modelForward(model)(x, false).dataSync() as Float32Array);
  const theirs = tf.tidy(() => modelForward(imported)(x, false).dataSync() as Float32Array);
  const layerLine = (m: tf.LayersModel): string[] => m.layers.filter((l) => l.countParams() > 0 || /lrn|pool/i.test(l.getClassName())).map((l) => `${l.name} ${JSON.stringify(l.outputShape)} ${l.countParams()}`);
  const specs = layerLine(model);
  const importedSpecs = layerLine(imported);
  x.dispose();
  model.dispose();
  imported.dispose();
  let maxDiff = 0;
  let top1 = 0;
  let spread = 0;
  for (let i = 0; i < n; i++) {
    const a = Array.from(ours.subarray(i * classes, (i + 1) * classes));
    const b = Array.from(theirs.subarray(i * classes, (i + 1) * classes));
    a.forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - b[j]!))));
    const wa = a.indexOf(Math.max(...a));
    top1 += wa === b.indexOf(Math.max(...b)) ? 1 : 0;
    a.forEach((p, j) => (spread = Math.max(spread, Math.abs(p - ours[j]!))));
  }
  return { maxDiff, top1: top1 / n, spread, spec, importedSpec: net.spec, specs, importedSpecs };
}

describe('ONNX round trip: our export imported as a model', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => tf.disposeVariables());

  it.each([
    ['alexnet-small', true, 32],
    ['alexnet', true, 99], // 99 px: conv5's pooled map is 2×2, so fc6's row order matters (at 67 px it is 1×1)
    ['alexnet-2012', true, 99],
  ] as const)('%s (LRN %s, %i px): same layers, spec and probabilities (max |Δprob| ≤ 1e-5, all top-1 equal)', async (arch, lrn, size) => {
    const r = await roundTrip(arch, lrn, size);
    console.log(`ONNX round trip ${arch} lrn=${lrn} ${size}px: top-1 ${r.top1 * 100}% (spread between images ${r.spread.toFixed(3)}), max |Δprob| ${r.maxDiff.toExponential(2)}`);
    expect(r.importedSpec).toEqual(r.spec);
    expect(r.importedSpecs).toEqual(r.specs);
    expect(r.spread).toBeGreaterThan(0.02); // the check means something: the images get different probabilities
    expect(r.top1).toBe(1);
    expect(r.maxDiff).toBeLessThanOrEqual(1e-5);
  });
});
