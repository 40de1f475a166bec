import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../bench/protocol.js';
import { onnxModelOf } from '../../../src/interchange/onnx-export.js';
import { runOnnxSession } from '../../../src/interchange/onnx-parity.js';
import { encodeOnnxModel } from '../../../src/interchange/onnx-proto.js';
import { buildModel } from '../../../src/model/index.js';
import { normals, randomizeWeights } from '../../helpers/onnx-weights.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

let t: ReturnType<typeof tempDir>;
beforeAll(async () => {
  await tf.setBackend('cpu');
  t = tempDir('convnet-onnx-py-');
});
afterAll(() => t?.cleanup());

describe('our ONNX file in Python', () => {
  // The two-tower network: grouped Conv (group 2 in conv2/4/5), LRN after conv1/conv2, 'same' pads, 2×2 pool5 flatten.
  it("alexnet-2012 passes onnx.checker (full check), and PyTorch computing its graph agrees with ONNX Runtime to 1e-5", async (ctx) => {
    const found = findTorchPython();
    if (!found.python) {
      console.log(`skipped: no Python with torch (${found.tried.join('; ')})`);
      ctx.skip();
    }
    const size = 99;
    const n = 2;
    const draw = normals(11);
    const nhwc = Float32Array.from({ length: n * size * size * 3 }, () => draw() * 60);
    const model = buildModel('alexnet-2012', { numClasses: 5, lrn: true, inputSize: size, init: 'he' });
    const xt = tf.tensor4d(nhwc, [n, size, size, 3]);
    randomizeWeights(model, 3, xt);
    const x = tf.tidy(() => xt.transpose([0, 3, 1, 2]).dataSync() as Float32Array);
    xt.dispose();
    const spec = { classes: ['a', 'b', 'c', 'd', 'e'], inputSize: size, resizeSize: 113, norm: { mean: [1, 2, 3] as [number, number, number] }, arch: 'alexnet-2012', runId: null };
    const bytes = encodeOnnxModel(onnxModelOf(model, spec));
    model.dispose();
    const file = path.join(t.dir, 'alexnet-2012.onnx');
    const input = path.join(t.dir, 'input.f32');
    fs.writeFileSync(file, bytes);
    fs.writeFileSync(input, new Uint8Array(x.buffer));

    const py = spawnSync(found.python!, [path.join(repoRoot, 'test/helpers/onnx-torch-check.py'), file, input, String(n), '3', String(size), String(size)], { encoding: 'utf8', timeout: 300_000 });
    expect(py.status, py.stderr).toBe(0);
    const out = JSON.parse(py.stdout);
    expect(out).toMatchObject({ checker: 'ok', irVersion: 8, opset: [['', 13]], outputDims: ['batch', 5] });
    expect(JSON.parse(out.metadata['convnet.preprocessing'])).toMatchObject({ std: null, mean: [1, 2, 3] });

    const session = await ort.InferenceSession.create(bytes);
    const theirs = await runOnnxSession(session, x, n, size);
    await session.release();
    let maxDiff = 0;
    out.probabilities.forEach((p: number, i: number) => (maxDiff = Math.max(maxDiff, Math.abs(p - theirs[i]!))));
    const spread = Math.max(...theirs) - Math.min(...theirs);
    console.log(`alexnet-2012: PyTorch vs ONNX Runtime max |Δprob| ${maxDiff.toExponential(2)}, softmax spread ${spread.toFixed(3)}`);
    expect(spread).toBeGreaterThan(0.2);
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });
});
