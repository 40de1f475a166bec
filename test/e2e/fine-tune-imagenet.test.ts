// The headline flow of issue #16 through real CLI processes: a torchvision AlexNet .pth (seeded, written as torch.save
// does) imported with `convnet models import`, a run fine-tuned from it on 3 generated classes (fast head, then
// frozen features), its lineage, the layers it copied and re-made, the parent's input rule, and `convnet classify --run`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../bench/protocol.js';
import { inspectModelFolder, readModelArtifacts } from '../../src/classify/model-folder-check.js';
import { loadCheckpoint } from '../../src/runs/checkpoint.js';
import { SHAPE_CLASSES, writeShapesDataset } from '../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../helpers/temp.js';
import { seededTorchvisionAlexnet, stateDictPth, type PthTensor } from '../helpers/torch-pth.js';

let root: string;
let lib: string;
let cleanup: () => void;
let pth: PthTensor[];
const CLASSES = SHAPE_CLASSES.slice(0, 3);
const torch = findTorchPython();
if (!torch.python) {
  console.log(`bvlc ONNX fine-tune test skipped: no Python here imports torch (tried ${torch.tried.join('; ')})`);
}

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', lib], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CONVNET_LIBRARY: '' } });

/** One weight of a run's checkpoint (e.g. "conv1/kernel") with its shape. */
function checkpointWeight(runId: number, name: string): { shape: number[]; data: Float32Array } {
  const c = loadCheckpoint(path.join(lib, 'runs', String(runId)))!;
  const floats = new Float32Array(c.artifacts.weightData as ArrayBuffer);
  let offset = 0;
  for (const spec of c.artifacts.weightSpecs!) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.name === name) {
      return { shape: spec.shape, data: floats.slice(offset, offset + size) };
    }
    offset += size;
  }
  throw new Error(`no weight ${name} in run ${runId}'s checkpoint`);
}

/** One weight of a library model's folder (e.g. "conv1/kernel"). */
function modelWeight(modelId: number, name: string): Float32Array {
  const dir = path.join(lib, 'models', String(modelId));
  const artifacts = readModelArtifacts(dir, inspectModelFolder(dir));
  const floats = new Float32Array(artifacts.weightData as ArrayBuffer);
  let offset = 0;
  for (const spec of artifacts.weightSpecs!) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.name === name) {
      return floats.slice(offset, offset + size);
    }
    offset += size;
  }
  throw new Error(`no weight ${name} in model ${modelId}`);
}

/** PyTorch's conv weight [O, I, kH, kW] as tfjs' [kH, kW, I, O]. */
function toHwio(t: PthTensor): Float32Array {
  const [o, i, h, w] = t.shape as [number, number, number, number];
  const out = new Float32Array(t.data.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          out[((y * w + x) * i + b) * o + a] = t.data[((a * i + b) * h + y) * w + x]!;
        }
      }
    }
  }
  return out;
}

/** PyTorch's Linear weight [out, in] as tfjs' [in, out]. */
function toInOut(t: PthTensor): Float32Array {
  const [o, i] = t.shape as [number, number];
  const out = new Float32Array(t.data.length);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      out[b * o + a] = t.data[a * i + b]!;
    }
  }
  return out;
}

const tensor = (name: string): PthTensor => pth.find((t) => t.name === name)!;
const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, k) => v === b[k]);

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('convnet-ft-imagenet-'));
  lib = path.join(root, 'lib');
  pth = seededTorchvisionAlexnet(5);
  fs.writeFileSync(path.join(root, 'alexnet.pth'), stateDictPth(pth));
  await writeShapesDataset(path.join(root, 'tiny'), 10, 64, 3, CLASSES);
  const imported = cli('import', path.join(root, 'tiny'), '--name', 'tiny', '--json');
  expect(imported.status, imported.stderr).toBe(0);
}, 120_000);

afterAll(() => cleanup?.());

describe('fine-tuning an imported torchvision AlexNet (CLI)', () => {
  it('trains a fast head from the imported .pth: lineage, conv1…fc7 copied, fc8 re-made, torchvision input rule, classify --run', () => {
    const imported = cli('models', 'import', path.join(root, 'alexnet.pth'), '--json');
    expect(imported.status, imported.stderr).toBe(0);
    const model = JSON.parse(imported.stdout) as { id: number; arch: string; classes: string[] };
    expect([model.id, model.arch, model.classes.length]).toEqual([1, 'alexnet', 1000]);

    const started = Date.now();
    const train = cli('train', '--dataset', 'tiny', '--init-from', 'model:1', '--freeze', 'all-but-last', '--epochs', '2', '--backend', 'wasm');
    console.log(`fast head from the imported AlexNet (224 px, 24 training images, 2 epochs): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(train.status, train.stderr).toBe(0);
    expect(train.stderr).toContain(
      'Run 1: Started from model 1: copied conv1, conv2, conv3, conv4, conv5, fc6, fc7; re-initialised fc8 (the last layer, sized to the 3 new classes); frozen conv1, conv2, conv3, conv4, conv5, fc6, fc7',
    );
    expect(train.stderr).toContain('Run 1: Training alexnet at 224 px on 24 images (3 validation, 3 classes).');
    expect(train.stderr).toMatch(/Run 1: Fast head: features computed in \d+\.\d s/);
    expect(train.stdout).toMatch(/^Run 1 completed\./m);

    const runs = JSON.parse(cli('runs', '--json').stdout) as Array<{ id: number; status: string; epochsDone: number; parent: unknown }>;
    expect(runs.map((r) => [r.id, r.status, r.epochsDone, r.parent])).toEqual([[1, 'completed', 2, { kind: 'model', id: 1, name: 'alexnet' }]]);

    // conv1…fc7 are the .pth's own numbers in tfjs layouts (fc7 needs no row reorder; fc6 does, and is compared by sum).
    const conv1 = checkpointWeight(1, 'conv1/kernel');
    expect(conv1.shape).toEqual([11, 11, 3, 64]);
    expect(same(conv1.data, toHwio(tensor('features.0.weight')))).toBe(true);
    expect(same(checkpointWeight(1, 'conv5/kernel').data, toHwio(tensor('features.10.weight')))).toBe(true);
    expect(same(checkpointWeight(1, 'fc7/kernel').data, toInOut(tensor('classifier.4.weight')))).toBe(true);
    expect(same(checkpointWeight(1, 'fc7/bias').data, tensor('classifier.4.bias').data)).toBe(true);
    const sum = (a: Float32Array): number => a.reduce((s, v) => s + v, 0);
    expect(sum(checkpointWeight(1, 'fc6/kernel').data)).toBeCloseTo(sum(tensor('classifier.1.weight').data), 2);
    const fc8 = checkpointWeight(1, 'fc8/kernel');
    expect(fc8.shape).toEqual([4096, 3]);
    expect(same(fc8.data, toInOut(tensor('classifier.6.weight')).slice(0, 4096 * 3))).toBe(false);

    // The parent's input rule: 224 px, ImageNet mean/std on the 0..255 scale.
    const meta = loadCheckpoint(path.join(lib, 'runs', '1'))!.meta;
    expect((meta.config as { imageSize: number }).imageSize).toBe(224);
    expect(meta.classes).toEqual([...CLASSES]);
    const stats = meta.colorStats as { mean: number[]; std: number[] };
    expect(stats.mean.map((v) => +v.toFixed(3))).toEqual([123.675, 116.28, 103.53]);
    expect(stats.std.map((v) => +v.toFixed(3))).toEqual([58.395, 57.12, 57.375]);

    const classified = cli('classify', '--run', '1', path.join(root, 'tiny', 'circle'), '--json');
    expect(classified.status, classified.stderr).toBe(0);
    const lines = classified.stdout.trim().split('\n').map((l) => JSON.parse(l) as { predictions: Array<{ label: string; probability: number }> });
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.predictions.length === 3 && l.predictions.every((p) => (CLASSES as readonly string[]).includes(p.label)))).toBe(true);
  }, 300_000);

  it('trains with frozen features (conv1…conv5 frozen, fc6/fc7 learning at 0.1×) for one epoch', () => {
    const started = Date.now();
    const train = cli('train', '--dataset', 'tiny', '--init-from', 'model:1', '--freeze', 'features', '--epochs', '1', '--batch-size', '8', '--backend', 'wasm', '--time-limit', '4');
    console.log(`frozen features from the imported AlexNet (224 px, 24 training images, 1 epoch): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(train.status, train.stderr).toBe(0);
    expect(train.stderr).toContain('frozen conv1, conv2, conv3, conv4, conv5; copied layers learn at 0.1× the learning rate.');
    expect(train.stdout).toMatch(/^Run 2 completed\./m);
    expect(same(checkpointWeight(2, 'conv1/kernel').data, toHwio(tensor('features.0.weight')))).toBe(true);
    expect(same(checkpointWeight(2, 'fc7/kernel').data, toInOut(tensor('classifier.4.weight')))).toBe(false);
  }, 300_000);

  it.skipIf(!torch.python)('fine-tunes a Caffe-style (bvlc) ONNX AlexNet: alexnet-2012 with LRN, mean-only Caffe normalisation', () => {
    const peers = path.join(root, 'peers');
    const made = spawnSync(torch.python!, [path.join(repoRoot, 'test', 'unit', 'pretrained', 'make-peers.py'), peers, '1'], { encoding: 'utf8', timeout: 300_000 });
    expect(made.status, made.stderr).toBe(0);
    const imported = cli('models', 'import', path.join(peers, 'bvlcalexnet-seeded.onnx'), '--json');
    expect(imported.status, imported.stderr).toBe(0);
    const model = JSON.parse(imported.stdout) as { id: number; arch: string };
    expect([model.id, model.arch]).toEqual([2, 'alexnet-2012']);
    const train = cli('train', '--dataset', 'tiny', '--init-from', 'model:2', '--freeze', 'all-but-last', '--epochs', '1', '--backend', 'wasm');
    expect(train.status, train.stderr).toBe(0);
    expect(train.stderr).toContain('Run 3: Started from model 2: copied conv1, conv2, conv3, conv4, conv5, fc6, fc7; re-initialised fc8');
    expect(train.stderr).toContain('Run 3: Training alexnet-2012 at 224 px on 24 images');
    expect(train.stdout).toMatch(/^Run 3 completed\./m);
    expect(same(checkpointWeight(3, 'conv1/kernel').data, modelWeight(2, 'conv1/kernel'))).toBe(true);
    expect(same(checkpointWeight(3, 'conv4/kernel').data, modelWeight(2, 'conv4/kernel'))).toBe(true);
    const meta = loadCheckpoint(path.join(lib, 'runs', '3'))!.meta;
    expect(meta.config).toMatchObject({ arch: 'alexnet-2012', imageSize: 224, lrn: true, init: 'paper' });
    expect((meta.colorStats as { mean: number[] }).mean).toEqual([123, 117, 104]);
  }, 300_000);
});
