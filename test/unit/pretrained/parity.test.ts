// Parity of imported AlexNets with PyTorch: a seeded torchvision AlexNet (.pth and its ONNX export) and a
// Caffe-style bvlc graph (groups, LRN, BGR) made by make-peers.py with Debian's torch/torchvision/onnx.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../bench/protocol.js';
import { activateBackend, chooseBackend } from '../../../src/backends/index.js';
import { classifyViews, decodeFile, inputBatch } from '../../../src/classify/pipeline.js';
import { forwardOf } from '../../../src/model/forward.js';
import { buildImported, parameterCount, type ImportedNetwork } from '../../../src/pretrained/imported-network.js';
import { alexnetFromOnnx } from '../../../src/pretrained/onnx-alexnet.js';
import { readStateDict } from '../../../src/pretrained/pth.js';
import { alexnetFromTorchvision } from '../../../src/pretrained/torchvision-alexnet.js';
import { tempDir } from '../../helpers/temp.js';

const IMAGES = 12;
const torch = findTorchPython();
if (!torch.python) {
  console.log(`pretrained parity tests skipped: no Python here imports torch (tried ${torch.tried.join('; ')})`);
}

let dir = '';
let cleanup: () => void = () => {};
let images: string[] = [];

/** Logits (the output before fc8's softmax) of a network for an NHWC batch. */
function logitsOf(model: tf.LayersModel, x: tf.Tensor4D): Float32Array {
  return tf.tidy(() => {
    const body = forwardOf(model.layers.slice(0, -1));
    const [kernel, bias] = model.layers.at(-1)!.getWeights() as [tf.Tensor2D, tf.Tensor1D];
    return tf.add(tf.matMul(body(x, false) as tf.Tensor2D, kernel), bias).dataSync() as Float32Array;
  });
}

function readF32(name: string): Float32Array {
  const b = fs.readFileSync(path.join(dir, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const argmax = (row: Float32Array, i: number, c: number): number => {
  let best = 0;
  for (let k = 1; k < c; k++) {
    if (row[i * c + k]! > row[i * c + best]!) {
      best = k;
    }
  }
  return best;
};

/**
 * Compares our logits with PyTorch's on PyTorch's own preprocessed tensor (NCHW → NHWC; BGR peers flipped to the RGB
 * our conv1 takes), then top-1 through our own preprocessing of the PNGs (decode, resize, crop, normalise).
 */
async function compare(net: ImportedNetwork, input: string, logits: string, bgr: boolean): Promise<{ rel: number; agree: number; distinct: number }> {
  const model = buildImported(net);
  try {
    const ref = readF32(logits);
    const nchw = tf.tensor4d(readF32(input), [IMAGES, 3, 224, 224]);
    const x = tf.tidy(() => (bgr ? tf.reverse(nchw, 1) : nchw).transpose([0, 2, 3, 1]) as tf.Tensor4D);
    nchw.dispose();
    const got = logitsOf(model, x);
    x.dispose();
    let maxDiff = 0;
    let maxRef = 0;
    ref.forEach((r, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(got[i]! - r));
      maxRef = Math.max(maxRef, Math.abs(r));
    });
    const decoded = await Promise.all(images.map((f) => decodeFile(f, net.spec.resizeSize)));
    const pixels = decoded.map((d) => (d.ok ? d.pixels : expect.fail(`decode failed: ${JSON.stringify(d)}`)));
    const ours = tf.tensor4d(inputBatch(net.spec, pixels, classifyViews(net.spec, false)), [IMAGES, 224, 224, 3]);
    const pipelineLogits = logitsOf(model, ours);
    ours.dispose();
    const classes = net.spec.classes.length;
    let agree = 0;
    const answers = new Set<number>();
    for (let i = 0; i < IMAGES; i++) {
      agree += argmax(pipelineLogits, i, classes) === argmax(ref, i, classes) ? 1 : 0;
      answers.add(argmax(ref, i, classes));
    }
    return { rel: maxDiff / maxRef, agree, distinct: answers.size };
  } finally {
    model.dispose();
  }
}

describe.skipIf(!torch.python)('imported AlexNets against PyTorch', () => {
  beforeAll(async () => {
    await activateBackend((await chooseBackend('auto')).name);
    ({ dir, cleanup } = tempDir('pretrained-parity-'));
    const script = fileURLToPath(new URL('./make-peers.py', import.meta.url));
    const made = spawnSync(torch.python!, [script, dir, String(IMAGES)], { encoding: 'utf8', timeout: 300_000 });
    if (made.status !== 0) {
      throw new Error(`make-peers.py failed: ${made.stderr}`);
    }
    images = (JSON.parse(fs.readFileSync(path.join(dir, 'peers.json'), 'utf8')) as { images: string[] }).images.map((n) => path.join(dir, n));
  }, 600_000);
  afterAll(() => cleanup());

  it('torchvision .pth: 61,100,840 parameters, logits within 1e-4 of PyTorch, top-1 agrees through our preprocessing', async () => {
    const net = alexnetFromTorchvision(readStateDict(fs.readFileSync(path.join(dir, 'alexnet-seeded.pth'))));
    expect(net.arch).toBe('alexnet');
    expect(parameterCount(net)).toBe(61_100_840);
    expect(net.spec.classes.slice(0, 2)).toEqual(['tench', 'goldfish']);
    const { rel, agree, distinct } = await compare(net, 'input-torchvision.f32', 'logits-torchvision.f32', false);
    console.log(`.pth: max relative logit difference ${rel.toExponential(2)}; top-1 agrees on ${agree}/${IMAGES} images through our preprocessing (PyTorch answers ${distinct} different classes)`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    expect(distinct).toBeGreaterThanOrEqual(IMAGES / 2); // top-1 depends on the image, so agreement means something
    expect(agree).toBeGreaterThanOrEqual(IMAGES - 3);
  });

  it('torchvision ONNX export: the same network, logits within 1e-4', async () => {
    const net = alexnetFromOnnx(fs.readFileSync(path.join(dir, 'alexnet-torchvision.onnx')));
    expect([net.arch, parameterCount(net), net.spec.norm.std?.map((s) => +s.toFixed(3))]).toEqual(['alexnet', 61_100_840, [58.395, 57.12, 57.375]]);
    const { rel, agree, distinct } = await compare(net, 'input-torchvision.f32', 'logits-torchvision.f32', false);
    console.log(`torchvision ONNX: max relative logit difference ${rel.toExponential(2)}; top-1 agrees on ${agree}/${IMAGES} images through our preprocessing (PyTorch answers ${distinct} different classes)`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    expect(distinct).toBeGreaterThanOrEqual(IMAGES / 2); // top-1 depends on the image, so agreement means something
    expect(agree).toBeGreaterThanOrEqual(IMAGES - 3);
  });

  it('bvlc-style ONNX (groups, LRN, ceil-mode pool, BGR): alexnet-2012, logits within 1e-4', async () => {
    const net = alexnetFromOnnx(fs.readFileSync(path.join(dir, 'bvlcalexnet-seeded.onnx')));
    expect([net.arch, parameterCount(net), net.spec.norm]).toEqual(['alexnet-2012', 60_965_224, { mean: [123, 117, 104] }]);
    const { rel, agree, distinct } = await compare(net, 'input-bvlc.f32', 'logits-bvlc.f32', true);
    console.log(`bvlc ONNX: max relative logit difference ${rel.toExponential(2)}; top-1 agrees on ${agree}/${IMAGES} images through our preprocessing (PyTorch answers ${distinct} different classes)`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    expect(distinct).toBeGreaterThanOrEqual(IMAGES / 2); // top-1 depends on the image, so agreement means something
    expect(agree).toBeGreaterThanOrEqual(IMAGES - 3);
  });
});
