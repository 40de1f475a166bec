// The PyTorch DDP bundle end to end with Debian's python3-torch: export from the CLI, train.py --check,
// torchrun with 2 gloo processes on CPU, and the result imported back and evaluated. Skips, saying why,
// where no Python imports torch.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { decodeSafetensors, encodeSafetensors, f32, floatsOf } from '../../../src/interchange/torch-bundle/safetensors.js';
import { writeTarShards } from '../../../src/interchange/torch-bundle/tar-shards.js';
import { openStudio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';
import { captureIO } from '../classify/fixture.js';
import { runWithStacks } from './run-with-stacks.js';

/** The first Python that imports torch, as the bench finds it; null with the reasons. */
function torchPython(): { python: string | null; why: string } {
  const tried: string[] = [];
  for (const python of [process.env.CONVNET_BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    const r = spawnSync(python, ['-c', 'import torch, PIL, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) {
      return { python, why: '' };
    }
    tried.push(`${python}: ${r.error?.message ?? r.stderr.trim().split('\n').at(-1)}`);
  }
  return { python: null, why: tried.join('; ') };
}

const { python, why } = torchPython();
if (!python) {
  console.warn(`Skipping the torch bundle tests: no Python with torch, Pillow and NumPy (${why}).`);
}

describe.skipIf(!python)('PyTorch DDP bundle (export, check, torchrun, import)', () => {
  let root: string;
  let cleanup: () => void;
  let lib: string;
  let images: string;
  let runId: number;
  let bundle: string;

  beforeAll(async () => {
    ({ dir: root, cleanup } = tempDir('convnet-torch-bundle-'));
    images = path.join(root, 'images');
    // 36 px images are already at alexnet-small's pack size: Pillow and libvips then agree on every pixel.
    await writeShapesDataset(images, 12, 36, 3, ['circle', 'square', 'hstripes']);
    lib = path.join(root, 'lib');
    const io = captureIO();
    expect(await runCli(['import', images, '--library', lib, '--name', 'shapes', '--json'], io)).toBe(0);
    const datasetId = JSON.parse(io.stdout).dataset.id as number;
    const studio = openStudio({ libraryDir: lib, host: 'cli' });
    try {
      runId = (await studio.call('runs.start', { datasetId, arch: 'alexnet-small', epochs: 1, batchSize: 8, backend: 'wasm', seed: 5 })).id;
      await studio.training.settled(runId);
    } finally {
      await studio.close();
    }
    bundle = path.join(root, 'bundle');
  }, 180_000);
  afterAll(() => cleanup?.());

  it('convnet export --format torch writes the bundle, and its train.py --check agrees with our logits within 1e-4', async () => {
    const io = captureIO();
    const code = await runCli(['export', '--run', String(runId), '--format', 'torch', '--out', bundle, '--library', lib, '--json'], io);
    expect(code, io.stderr).toBe(0);
    const r = JSON.parse(io.stdout);
    expect(r.files).toEqual(expect.arrayContaining(['model.py', 'train.py', 'launch.sh', 'README.md', 'config.json', 'manifest.jsonl', 'weights.safetensors', 'reference.safetensors']));
    expect(r).toMatchObject({ images: 36, shards: 0, referenceImages: 8, params: 461_763 });
    expect(r.check.ok).toBe(true);
    const diff = Number(/max \|logit difference\| (\S+)/.exec(r.check.line)![1]);
    expect(diff).toBeLessThan(1e-4);
    // The manifest: every image of the snapshot, by path relative to the data root, with its content hash.
    const manifest = fs.readFileSync(path.join(bundle, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(manifest).toHaveLength(36);
    const first = manifest[0];
    expect(first.path).toMatch(/^(circle|square|hstripes)\/[^/]+\.png$/);
    expect(first.sha256).toBe(createHash('sha256').update(fs.readFileSync(path.join(images, first.path))).digest('hex'));
    expect(new Set(manifest.map((m) => m.split))).toEqual(new Set(['train', 'val', 'test']));
    // A fresh check from the command line, as a user runs it.
    const check = spawnSync(python!, ['train.py', '--check'], { cwd: bundle, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/check: 8 reference images, 3 classes, 461763 parameters: .* -> OK/);
  }, 180_000);

  it('train.py --check exits non-zero when fc6 keeps our H·W·C flatten order', () => {
    const bad = path.join(root, 'bundle-unpermuted');
    fs.cpSync(bundle, bad, { recursive: true });
    const state = decodeSafetensors(fs.readFileSync(path.join(bad, 'weights.safetensors')));
    const w = floatsOf(state['fc6.weight']!);
    const [out, inputs] = state['fc6.weight']!.shape as [number, number];
    const [h, wd, c] = [3, 3, 64];
    const naive = new Float32Array(w.length);
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inputs; i++) {
        // torch column (c, y, x) gets what our row (y, x, c) would be without the permutation
        const ch = Math.floor(i / (h * wd));
        const rest = i % (h * wd);
        naive[o * inputs + rest * c + ch] = w[o * inputs + i]!;
      }
    }
    fs.writeFileSync(path.join(bad, 'weights.safetensors'), encodeSafetensors({ ...state, 'fc6.weight': f32([out, inputs], naive) }));
    const check = spawnSync(python!, ['train.py', '--check'], { cwd: bad, encoding: 'utf8' });
    expect(check.status).toBe(1);
    expect(check.stdout).toMatch(/-> FAILED/);
  }, 120_000);

  it('launch.sh runs torchrun with 2 gloo processes for 1 epoch on CPU and writes result/', async () => {
    // A free port of our own: --standalone's fixed 29400 would be shared with any other torchrun on this host.
    const freePort = (): Promise<number> =>
      new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (server.address() as net.AddressInfo).port;
          server.close(() => resolve(p));
        });
      });
    const launch = async (): ReturnType<typeof runWithStacks> =>
      runWithStacks('./launch.sh', ['--nproc', '2', '--master-port', String(await freePort()), '--', '--epochs', '1', '--workers', '0', '--data-root', images], {
        cwd: bundle,
        env: { ...process.env, PYTHON: python!, OMP_NUM_THREADS: '1' },
        timeoutMs: 150_000,
      });
    let r = await launch();
    if (r.timedOut) {
      // It takes 8–70 s here; twice in CI-like runs it hung past 300 s, not reproduced in 28 runs under load.
      // A hang is retried once, its stacks printed for whoever diagnoses it; a second hang or any failure fails.
      console.warn(`launch.sh hung for ${r.seconds} s; retrying once. Its output and stacks:\n${r.stdout}\n${r.stderr}`);
      fs.rmSync(path.join(bundle, 'result'), { recursive: true, force: true });
      r = await launch();
    }
    expect({ timedOut: r.timedOut, status: r.status }, `after ${r.seconds} s\n${r.stdout}\n${r.stderr}`).toEqual({ timedOut: false, status: 0 });
    expect(r.stdout).toMatch(/2 process\(es\) with gloo on cpu/);
    const metrics = fs.readFileSync(path.join(bundle, 'result', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toHaveLength(1);
    expect(metrics[0].epoch).toBe(1);
    const result = JSON.parse(fs.readFileSync(path.join(bundle, 'result', 'result.json'), 'utf8'));
    expect(result).toMatchObject({ parentRunId: runId, worldSize: 2, backend: 'gloo', epochs: 1 });
    expect(fs.existsSync(path.join(bundle, 'result', 'weights.safetensors'))).toBe(true);
  }, 320_000);

  it('convnet runs import brings the result back as a linked run whose evaluation matches what the bundle reported', async () => {
    const io = captureIO();
    expect(await runCli(['runs', 'import', bundle, '--library', lib, '--json'], io), io.stderr).toBe(0);
    const r = JSON.parse(io.stdout);
    expect(r.run).toMatchObject({ status: 'completed', origin: 'torch-bundle', parentRunId: runId, epochsDone: 1, backend: 'torch' });
    expect(r.evaluation.split).toBe('val');
    // Same weights, same pixels (36 px images: no resize on either side): the same loss and errors.
    expect(Math.abs(r.evaluation.loss - r.bundle.valLoss)).toBeLessThan(1e-4);
    expect(r.evaluation.top1Error).toBeCloseTo(r.bundle.valTop1Error, 10);
    expect(r.evaluation.top5Error).toBeCloseTo(r.bundle.valTop5Error, 10);
    // Its curves, and eval like any run.
    const detail = captureIO();
    const studio = openStudio({ libraryDir: lib, host: 'cli' });
    try {
      const d = await studio.call('runs.get', { id: r.run.id });
      expect(d.epochsData).toHaveLength(1);
      expect(d.snapshotHash).toBe((await studio.call('runs.get', { id: runId })).snapshotHash);
    } finally {
      await studio.close();
    }
    expect(await runCli(['eval', '--run', String(r.run.id), '--library', lib, '--json'], detail), detail.stderr).toBe(0);
    expect(JSON.parse(detail.stdout).top1Error).toBeCloseTo(r.evaluation.top1Error, 10);
    // The same result again would be a duplicate run.
    const again = captureIO();
    expect(await runCli(['runs', 'import', bundle, '--library', lib], again)).not.toBe(0);
    expect(again.stderr).toContain(`This result is already in the library as run ${r.run.id}.`);
  }, 180_000);

  it('refuses a bundle whose parent run trained on other data, and an export into a folder that holds files', async () => {
    const foreign = path.join(root, 'bundle-foreign');
    fs.cpSync(bundle, foreign, { recursive: true });
    const cfg = JSON.parse(fs.readFileSync(path.join(foreign, 'config.json'), 'utf8'));
    cfg.run.snapshotHash = 'f'.repeat(64);
    fs.writeFileSync(path.join(foreign, 'config.json'), JSON.stringify(cfg));
    const io = captureIO();
    expect(await runCli(['runs', 'import', foreign, '--library', lib], io)).not.toBe(0);
    expect(io.stderr).toMatch(new RegExp(`Run ${runId} of this library trained on other data than the bundle .*: it was exported from another library`));
    const io2 = captureIO();
    expect(await runCli(['export', '--run', String(runId), '--format', 'torch', '--out', foreign, '--library', lib], io2)).not.toBe(0);
    expect(io2.stderr).toContain(`${foreign} is not empty; choose a new or empty folder for the export.`);
    expect(fs.existsSync(path.join(foreign, 'result', 'result.json'))).toBe(true);
  });

  it('tar shards keep long and non-ASCII names (pax) as Python reads them', async () => {
    const long = `${'sub-folder/'.repeat(12)}été-${'x'.repeat(40)}.png`;
    const names = await writeTarShards(path.join(root, 'shards'), [{ source: path.join(images, 'circle', fs.readdirSync(path.join(images, 'circle'))[0]!), name: long }, { source: path.join(bundle, 'config.json'), name: 'a/b.json' }], 1);
    expect(names).toEqual(['images-00000.tar', 'images-00001.tar']);
    const r = spawnSync(python!, ['-c', 'import sys, tarfile; [print(m.name, m.size) for f in sys.argv[1:] for m in tarfile.open(f).getmembers()]', ...names.map((n) => path.join(root, 'shards', n))], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const listed = r.stdout.trim().split('\n').map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(listed).toEqual([long, 'a/b.json']);
  });

  it('refuses a bundle that has not been trained, saying so', async () => {
    const io = captureIO();
    expect(await runCli(['runs', 'import', path.join(root, 'bundle-unpermuted-untrained'), '--library', lib], io)).not.toBe(0);
    fs.cpSync(path.join(root, 'bundle-unpermuted'), path.join(root, 'bundle-untrained'), { recursive: true });
    const io2 = captureIO();
    expect(await runCli(['runs', 'import', path.join(root, 'bundle-untrained'), '--library', lib], io2)).not.toBe(0);
    expect(io2.stderr).toMatch(/result\.json does not exist: the bundle has not been trained to the end yet/);
  });

  it('--with-images packs the snapshot as tar shards that train.py unpacks and trains from (one process)', async () => {
    const dir = path.join(root, 'bundle-images');
    const io = captureIO();
    expect(await runCli(['export', '--run', String(runId), '--format', 'torch', '--with-images', '--out', dir, '--library', lib, '--json'], io), io.stderr).toBe(0);
    expect(JSON.parse(io.stdout).shards).toBe(1);
    const r = spawnSync(python!, ['train.py', '--epochs', '1', '--workers', '0'], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const manifest = fs.readFileSync(path.join(dir, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const m of manifest) {
      expect(createHash('sha256').update(fs.readFileSync(path.join(dir, 'data', m.path))).digest('hex')).toBe(m.sha256);
    }
    expect(fs.readFileSync(path.join(dir, 'result', 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  }, 180_000);
});
