import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import '../../../src/model/index.js';
import { openStudio } from '../../../src/studio.js';
import { loadCheckpoint, modelFromCheckpoint } from '../../../src/runs/checkpoint.js';
import { repoRoot } from '../../helpers/temp.js';
import { captureIO, trainedFixture, type TrainedFixture } from './fixture.js';

let fx: TrainedFixture;
let exportDir: string;

beforeAll(async () => {
  fx = await trainedFixture();
  exportDir = path.join(fx.root, 'export');
});
afterAll(() => fx?.cleanup());

/** Deterministic network input shared by this process and the fresh one. */
const PROBE_INPUT = 'Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => ((i * 7919) % 255) - 127)';

/** A script for a fresh Node: imports only @tensorflow/tfjs and the export's convnet-layers.js, loads the folder, predicts PROBE_INPUT. */
function plainTfjsScript(dir: string, register: boolean): string {
  return `
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
const dir = ${JSON.stringify(dir)};
${register ? "const { registerConvnetLayers } = await import(pathToFileURL(path.join(dir, 'convnet-layers.js')).href); registerConvnetLayers(tf);" : ''}
const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
const weights = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths).map((p) => fs.readFileSync(path.join(dir, p))));
const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
  weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }));
const y = model.predict(tf.tensor4d(${PROBE_INPUT}, [2, 32, 32, 3]));
process.stdout.write(JSON.stringify({ backend: tf.getBackend(), shape: y.shape, probs: Array.from(await y.data()) }));
`;
}

describe('exporting a run', () => {
  it('writes the folder and reloads it in a fresh process with 100 % top-1 agreement', async () => {
    const io = captureIO();
    expect(await runCli(['export', '--run', String(fx.runId), '--out', exportDir, '--library', fx.lib, '--json'], io)).toBe(0);
    const r = JSON.parse(io.stdout);
    expect(r.dir).toBe(exportDir);
    expect(r.files).toEqual(['model.json', 'group1-shard1of1.bin', 'labels.json', 'preprocessing.json', 'convnet-layers.js', 'predict.mjs', 'package.json', 'README.md']);
    expect(fs.readdirSync(exportDir).sort()).toEqual([...r.files].sort());
    expect(r.parity.images).toBeGreaterThan(0);
    expect(r.parity.split).toBe('test');
    expect(r.parity.top1Agreement).toBe(1);
    expect(r.parity.maxProbDiff).toBeLessThan(1e-4);
    expect(r.parity.note).toBeNull();

    expect(JSON.parse(fs.readFileSync(path.join(exportDir, 'labels.json'), 'utf8'))).toEqual(['circle', 'hstripes', 'square']);
    const pre = JSON.parse(fs.readFileSync(path.join(exportDir, 'preprocessing.json'), 'utf8'));
    expect(pre).toMatchObject({ inputSize: 32, resizeSize: 36, channelOrder: 'RGB', layout: 'NHWC', std: [expect.any(Number), expect.any(Number), expect.any(Number)] });
    expect(pre.source).toMatchObject({ arch: 'alexnet-small', runId: fx.runId });
    const readme = fs.readFileSync(path.join(exportDir, 'README.md'), 'utf8');
    expect(readme).toMatch(/registerConvnetLayers\(tf\)/);
    expect(readme).toMatch(/36×36/);
  });

  it('loads in a fresh Node with only @tensorflow/tfjs + convnet-layers.js, and predicts what the app predicts', async () => {
    const fresh = spawnSync(process.execPath, ['--input-type=module', '-e', plainTfjsScript(exportDir, true)], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(fresh.status, fresh.stderr).toBe(0);
    const out = JSON.parse(fresh.stdout);
    expect(out.backend).toBe('cpu');
    expect(out.shape).toEqual([2, 3]);

    // The same backend as the fresh process (something imported here may have registered wasm first).
    await tf.setBackend('cpu');
    const checkpoint = loadCheckpoint(path.join(fx.lib, 'runs', String(fx.runId)))!;
    const model = await modelFromCheckpoint(checkpoint);
    const x = tf.tensor4d(eval(PROBE_INPUT) as Float32Array, [2, 32, 32, 3]);
    const expected = Array.from(await (model.predict(x) as tf.Tensor).data());
    expect(out.probs).toHaveLength(6);
    out.probs.forEach((p: number, i: number) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-5));

    // Without the custom layers plain tfjs cannot read model.json: that is why the file ships.
    const bare = spawnSync(process.execPath, ['--input-type=module', '-e', plainTfjsScript(exportDir, false)], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/Unknown layer: (LocalResponseNormalization|GroupedConv2D)/);
  });

  it('refuses a folder that is not empty', async () => {
    const studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
    try {
      await expect(studio.call('classify.export', { runId: fx.runId, outDir: exportDir })).rejects.toThrow(/is not empty/);
    } finally {
      await studio.close();
    }
  });
});

describe('importing an exported model into another library', () => {
  it('classifies with --model (imported id or folder) exactly as --run does', async () => {
    const other = path.join(fx.root, 'other-lib');
    const imported = captureIO();
    expect(await runCli(['models', 'import', exportDir, '--library', other, '--json'], imported)).toBe(0);
    const model = JSON.parse(imported.stdout);
    expect(model).toMatchObject({ id: 1, name: 'export', arch: 'alexnet-small', classes: ['circle', 'hstripes', 'square'], inputSize: 32, sourceDir: exportDir, sourceRunId: fx.runId });
    expect(fs.existsSync(path.join(other, 'models', '1', 'group1-shard1of1.bin'))).toBe(true);

    const top1 = async (args: string[]): Promise<Array<[string, string]>> => {
      const io = captureIO();
      expect(await runCli(['classify', ...args, '--json', fx.batchDir], io), io.stderr).toBe(0);
      return io.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.predictions)
        .map((l) => [l.path, l.predictions[0].label]);
    };
    const byRun = await top1(['--run', String(fx.runId), '--library', fx.lib]);
    expect(byRun).toHaveLength(fx.good.length);
    expect(await top1(['--model', '1', '--library', other])).toEqual(byRun);
    expect(await top1(['--model', exportDir, '--library', other])).toEqual(byRun);

    const list = captureIO();
    expect(await runCli(['models', '--library', other, '--json'], list)).toBe(0);
    expect(JSON.parse(list.stdout).map((m: { id: number }) => m.id)).toEqual([1]);
    expect(await runCli(['models', 'delete', '1', '--library', other], captureIO())).toBe(0);
    expect(fs.existsSync(path.join(other, 'models', '1'))).toBe(false);
  });

  it('refuses a damaged folder with the reason, leaving nothing behind', async () => {
    const damaged = path.join(fx.root, 'damaged');
    fs.cpSync(exportDir, damaged, { recursive: true });
    fs.truncateSync(path.join(damaged, 'group1-shard1of1.bin'), 100);
    const studio = openStudio({ libraryDir: path.join(fx.root, 'third-lib'), host: 'cli' });
    try {
      await expect(studio.call('models.import', { dir: damaged })).rejects.toThrow(/weight files hold 100 bytes/);
      fs.rmSync(path.join(damaged, 'labels.json'));
      await expect(studio.call('models.import', { dir: damaged })).rejects.toThrow(/labels.json is missing/);
      expect(await studio.call('models.list')).toEqual([]);
    } finally {
      await studio.close();
    }
  });
});
