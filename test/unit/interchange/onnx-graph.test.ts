import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClassifierSpec } from '../../../src/classify/spec.js';
import { onnxModelOf } from '../../../src/interchange/onnx-export.js';
import { onnxParityProblem } from '../../../src/interchange/onnx-export-service.js';
import { denseToGemmB, hwioToOihw, samePads } from '../../../src/interchange/onnx-graph.js';
import { nhwcToNchw, runOnnxSession, specFromOnnxMetadata } from '../../../src/interchange/onnx-parity.js';
import { decodeOnnxModel, encodeOnnxModel } from '../../../src/interchange/onnx-proto.js';
import { modelForward } from '../../../src/model/forward.js';
import { buildModel, type ArchName } from '../../../src/model/index.js';
import { normals, randomizeWeights } from '../../helpers/onnx-weights.js';

function specOf(arch: ArchName, inputSize: number, classes: number): ClassifierSpec {
  return {
    classes: Array.from({ length: classes }, (_, i) => `class ${i}`),
    inputSize,
    resizeSize: inputSize + 4,
    norm: { mean: [120, 115, 100], std: [60, 61, 62] },
    arch,
    runId: 7,
  };
}

/** The same random NHWC batch through our forward (tfjs cpu) and through ONNX Runtime on the written file. */
async function compare(arch: ArchName, lrn: boolean, inputSize: number): Promise<{ maxDiff: number; top1: number; spread: number }> {
  const classes = 10;
  const model = buildModel(arch, { numClasses: classes, lrn, inputSize, init: 'he' });
  const n = 4;
  const draw = normals(5);
  // Pixel-scale input (mean subtracted, as under the paper's init): activations large enough that LRN normalises hard.
  const x = Float32Array.from({ length: n * inputSize * inputSize * 3 }, () => draw() * 60);
  const xt = tf.tensor4d(x, [n, inputSize, inputSize, 3]);
  randomizeWeights(model, 17, xt);
  const ours = tf.tidy(() => modelForward(model)(xt, false).dataSync() as Float32Array);
  xt.dispose();
  const bytes = encodeOnnxModel(onnxModelOf(model, specOf(arch, inputSize, classes)));
  model.dispose();
  const session = await ort.InferenceSession.create(bytes);
  const theirs = await runOnnxSession(session, nhwcToNchw(x, n, inputSize), n, inputSize);
  await session.release();
  expect(theirs).toHaveLength(ours.length);
  let maxDiff = 0;
  let top1 = 0;
  let spread = 0;
  for (let i = 0; i < n; i++) {
    const a = Array.from(ours.subarray(i * classes, (i + 1) * classes));
    const b = Array.from(theirs.subarray(i * classes, (i + 1) * classes));
    a.forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - b[j]!))));
    top1 += a.indexOf(Math.max(...a)) === b.indexOf(Math.max(...b)) ? 1 : 0;
    spread = Math.max(spread, Math.max(...a) - Math.min(...a));
  }
  return { maxDiff, top1: top1 / n, spread };
}

describe('ONNX graph of our networks', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => tf.disposeVariables());

  it('maps TensorFlow "same" padding, HWIO kernels and the NHWC flatten order exactly', () => {
    expect(samePads(32, 5, 1)).toEqual([2, 2]);
    expect(samePads(27, 5, 1)).toEqual([2, 2]);
    expect(samePads(8, 3, 2)).toEqual([0, 1]); // TF puts the odd pixel after
    // [1, 2, 2, 2] HWIO → OIHW: o-major.
    expect(Array.from(hwioToOihw(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), [1, 2, 2, 2]))).toEqual([0, 4, 2, 6, 1, 5, 3, 7]);
    // A [h=1, w=2, c=2] map flattened NHWC (h0w0c0, h0w0c1, h0w1c0, h0w1c1) into 1 unit: B follows NCHW (c0w0, c0w1, c1w0, c1w1).
    expect(Array.from(denseToGemmB(Float32Array.from([10, 11, 12, 13]), [4, 1], [2, 1, 2]))).toEqual([10, 12, 11, 13]);
  });

  // alexnet / alexnet-2012 at 99 px: pool5 is 2×2 (the flatten order matters), fc6 is 1024→4096 instead of 9216→4096.
  it.each([
    { arch: 'alexnet-small' as const, lrn: true, size: 32 },
    { arch: 'alexnet-small' as const, lrn: false, size: 40 },
    { arch: 'alexnet' as const, lrn: true, size: 99 },
    { arch: 'alexnet-2012' as const, lrn: true, size: 99 },
  ])('$arch (lrn $lrn, $size px): ONNX Runtime on the file equals our forward to 1e-5', async ({ arch, lrn, size }) => {
    const r = await compare(arch, lrn, size);
    expect(r.spread, 'the test input must give a non-trivial softmax').toBeGreaterThan(0.2);
    expect(r.spread, 'nor a one-hot one').toBeLessThan(0.99);
    expect(r.top1).toBe(1);
    console.log(`${arch} lrn=${lrn} ${size}px: max |Δprob| ${r.maxDiff.toExponential(2)}, spread ${r.spread.toFixed(3)}`);
    expect(r.maxDiff).toBeLessThanOrEqual(1e-5);
  });

  it('writes the agreed convention: input/probabilities, opset 13, ir 8, grouped Conv, LRN alpha × size, metadata', () => {
    const model = buildModel('alexnet-2012', { numClasses: 3, lrn: true, inputSize: 99, init: 'paper' });
    const back = decodeOnnxModel(encodeOnnxModel(onnxModelOf(model, specOf('alexnet-2012', 99, 3))));
    model.dispose();
    expect(back.irVersion).toBe(8);
    expect(back.opsetImport!.map((o) => [o.domain ?? '', o.version])).toEqual([['', 13]]); // the default domain
    const g = back.graph!;
    expect(g.input!.map((i) => i.name)).toEqual(['input']);
    expect(g.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: 99 }, { dimValue: 99 }]);
    expect(g.output!.map((o) => o.name)).toEqual(['probabilities']);
    expect(g.node!.at(-1)).toMatchObject({ opType: 'Softmax', output: ['probabilities'] });
    expect(g.node!.map((n) => n.opType)).toEqual([
      'Conv', 'Relu', 'LRN', 'MaxPool', 'Conv', 'Relu', 'LRN', 'MaxPool', 'Conv', 'Relu', 'Conv', 'Relu', 'Conv', 'Relu', 'MaxPool',
      'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm', 'Softmax',
    ]);
    const attr = (node: string, name: string) => g.node!.find((n) => n.name === node)!.attribute!.find((a) => a.name === name)!;
    expect([attr('conv1', 'group').i, attr('conv2', 'group').i, attr('conv3', 'group').i, attr('conv4', 'group').i, attr('conv5', 'group').i]).toEqual([1, 2, 1, 2, 2]);
    expect(attr('conv1', 'pads').ints).toEqual([2, 2, 2, 2]);
    expect(attr('conv1', 'strides').ints).toEqual([4, 4]);
    expect(attr('lrn1', 'size').i).toBe(5);
    expect(attr('lrn1', 'alpha').f).toBeCloseTo(5e-4, 10); // the paper's α = 1e-4 on the plain sum; ONNX divides by size
    expect(attr('lrn1', 'bias').f).toBe(2);
    expect(attr('lrn1', 'beta').f).toBe(0.75);
    expect(g.initializer!.find((t) => t.name === 'conv2.weight')!.dims).toEqual([256, 48, 5, 5]);
    expect(g.initializer!.find((t) => t.name === 'fc6.weight')!.dims).toEqual([4096, 1024]);
    const meta = Object.fromEntries(back.metadataProps!.map((e) => [e.key, e.value]));
    expect(meta['convnet.arch']).toBe('alexnet-2012');
    expect(JSON.parse(meta['convnet.labels']!)).toEqual(['class 0', 'class 1', 'class 2']);
    expect(JSON.parse(meta['convnet.preprocessing']!)).toEqual({
      resizeSize: 103, inputSize: 99, channelOrder: 'RGB', layout: 'NCHW', pixelScale: 255, mean: [120, 115, 100], std: [60, 61, 62],
    });
    expect(meta['convnet.run']).toBe('7');
    expect(meta['convnet.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(specFromOnnxMetadata(back)).toEqual(specOf('alexnet-2012', 99, 3));
  });
});

describe('ONNX export parity verdict', () => {
  const parity = { images: 50, split: 'test' as const, top1Agreement: 1, maxProbDiff: 3e-7, backend: 'onnxruntime-node (cpu)', note: null };
  it('publishes the file at 100 % top-1 and |Δprob| ≤ 1e-5, or when nothing could be compared', () => {
    expect(onnxParityProblem(parity, 4)).toBeNull();
    expect(onnxParityProblem({ ...parity, images: 0, split: null, top1Agreement: null, maxProbDiff: null }, 4)).toBeNull();
  });
  it('refuses it otherwise, with the figures', () => {
    expect(onnxParityProblem({ ...parity, top1Agreement: 0.98 }, 4)).toBe(
      "ONNX Runtime does not agree with ConvNet Studio on run 4's model (top-1 agreement 98.00% on 50 test images, max |Δprob| 3.00e-7, allowed 0.00001); no file was written. Please report this.",
    );
    expect(onnxParityProblem({ ...parity, maxProbDiff: 2e-4 }, 4)).toMatch(/top-1 agreement 100\.00% on 50 test images, max \|Δprob\| 2\.00e-4/);
  });
});
