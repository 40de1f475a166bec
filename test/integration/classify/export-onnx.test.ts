import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTorchPython } from '../../../bench/protocol.js';
import { runCli } from '../../../src/cli/index.js';
import { specFromCheckpoint } from '../../../src/classify/spec.js';
import { runOnnxSession, specFromOnnxMetadata } from '../../../src/interchange/onnx-parity.js';
import { decodeOnnxModel } from '../../../src/interchange/onnx-proto.js';
import { openStudio } from '../../../src/studio.js';
import { loadCheckpoint } from '../../../src/runs/checkpoint.js';
import { repoRoot } from '../../helpers/temp.js';
import { captureIO, trainedFixture, type TrainedFixture } from './fixture.js';

let fx: TrainedFixture;
let onnxFile: string;

beforeAll(async () => {
  fx = await trainedFixture();
  onnxFile = path.join(fx.root, 'out', 'shapes.onnx');
  fs.mkdirSync(path.dirname(onnxFile));
});
afterAll(() => fx?.cleanup());

describe('convnet export --format onnx', () => {
  it('writes one .onnx file and reports ONNX Runtime parity with the app: 100 % top-1, max |Δprob| ≤ 1e-5', async () => {
    const io = captureIO();
    expect(await runCli(['export', '--run', String(fx.runId), '--format', 'onnx', '--out', onnxFile, '--library', fx.lib, '--json'], io), io.stderr).toBe(0);
    const r = JSON.parse(io.stdout);
    console.log(`ONNX export parity: ${JSON.stringify(r.parity)}, ${r.bytes} bytes`);
    expect(r).toMatchObject({ file: onnxFile, opset: 13, bytes: fs.statSync(onnxFile).size });
    expect(r.parity).toMatchObject({ split: 'test', top1Agreement: 1, backend: 'onnxruntime-node (cpu)', note: null });
    expect(r.parity.images).toBeGreaterThan(0);
    expect(r.parity.maxProbDiff).toBeLessThanOrEqual(1e-5);
    expect(fs.readdirSync(path.dirname(onnxFile))).toEqual(['shapes.onnx']); // no temporary file left

    // The metadata alone gives the app's input rule and labels.
    const model = decodeOnnxModel(fs.readFileSync(onnxFile));
    const checkpoint = loadCheckpoint(path.join(fx.lib, 'runs', String(fx.runId)))!;
    expect(specFromOnnxMetadata(model)).toEqual(specFromCheckpoint(checkpoint.meta));
    expect(specFromOnnxMetadata(model)).toMatchObject({ classes: ['circle', 'hstripes', 'square'], inputSize: 32, resizeSize: 36, arch: 'alexnet-small' });
  });

  it('prints the figures for a person, and refuses an existing file or an unknown format without touching anything', async () => {
    const other = path.join(fx.root, 'out', 'again.onnx');
    const io = captureIO();
    expect(await runCli(['export', '--run', String(fx.runId), '--format', 'onnx', '--out', other, '--library', fx.lib], io), io.stderr).toBe(0);
    expect(io.stdout).toMatch(/^Exported run \d+ to .*again\.onnx \(ONNX opset 13, [\d.]+ MB\)\nParity \(onnxruntime-node \(cpu\), \d+ test images\): top-1 agreement 100\.00%, max \|Δprob\| \d\.\d\de-\d+\n$/);

    const before = fs.readFileSync(onnxFile);
    const again = captureIO();
    expect(await runCli(['export', '--run', String(fx.runId), '--format', 'onnx', '--out', onnxFile, '--library', fx.lib], again)).not.toBe(0);
    expect(again.stderr).toMatch(/shapes\.onnx already exists; choose a new file name/);
    expect(fs.readFileSync(onnxFile).equals(before)).toBe(true);

    const missing = captureIO();
    expect(await runCli(['export', '--run', String(fx.runId), '--format', 'onnx', '--out', path.join(fx.root, 'nowhere', 'm.onnx'), '--library', fx.lib], missing)).not.toBe(0);
    expect(missing.stderr).toMatch(/folder .*nowhere does not exist/);

    const bad = captureIO();
    expect(await runCli(['export', '--run', String(fx.runId), '--format', 'pth', '--out', other, '--library', fx.lib], bad)).toBe(2);
    expect(bad.stderr).toMatch(/--format takes tfjs, onnx or torch, got "pth"/);
    expect(fs.readdirSync(path.dirname(onnxFile)).sort()).toEqual(['again.onnx', 'shapes.onnx']);
  });

  it('the API refuses a run without a checkpoint by its reason', async () => {
    const studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
    try {
      await expect(studio.call('classify.exportOnnx', { runId: 999, outFile: path.join(fx.root, 'out', 'x.onnx') })).rejects.toThrow(/run 999/i);
    } finally {
      await studio.close();
    }
  });

  it("passes Python's onnx.checker, and PyTorch computing the graph agrees with ONNX Runtime to 1e-5", async (ctx) => {
    const found = findTorchPython();
    if (!found.python) {
      console.log(`skipped: no Python with torch (${found.tried.join('; ')})`);
      ctx.skip();
    }
    const n = 3;
    const x = Float32Array.from({ length: n * 3 * 32 * 32 }, (_, i) => (((i * 7919) % 255) - 127) / 60);
    const inputFile = path.join(fx.root, 'probe.f32');
    fs.writeFileSync(inputFile, new Uint8Array(x.buffer));
    const py = spawnSync(found.python!, [path.join(repoRoot, 'test/helpers/onnx-torch-check.py'), onnxFile, inputFile, String(n), '3', '32', '32'], { encoding: 'utf8', timeout: 120_000 });
    expect(py.status, py.stderr).toBe(0);
    const out = JSON.parse(py.stdout);
    expect(out).toMatchObject({ checker: 'ok', irVersion: 8, opset: [['', 13]], input: 'input', output: 'probabilities', outputDims: ['batch', 3] });
    expect(out.ops).toEqual(['Conv', 'Flatten', 'Gemm', 'LRN', 'MaxPool', 'Relu', 'Softmax']);
    expect(Object.keys(out.metadata).sort()).toEqual(['convnet.arch', 'convnet.labels', 'convnet.preprocessing', 'convnet.run', 'convnet.version']);
    expect(JSON.parse(out.metadata['convnet.preprocessing'])).toMatchObject({ inputSize: 32, resizeSize: 36, channelOrder: 'RGB', layout: 'NCHW', pixelScale: 255 });

    const session = await ort.InferenceSession.create(fs.readFileSync(onnxFile));
    const ours = await runOnnxSession(session, x, n, 32);
    await session.release();
    expect(out.probabilities).toHaveLength(ours.length);
    let maxDiff = 0;
    out.probabilities.forEach((p: number, i: number) => (maxDiff = Math.max(maxDiff, Math.abs(p - ours[i]!))));
    console.log(`PyTorch vs ONNX Runtime on the exported file: max |Δprob| ${maxDiff.toExponential(2)} (torch ${found.torch})`);
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });
});
