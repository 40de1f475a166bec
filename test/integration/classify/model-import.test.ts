import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/index.js';
import { openStudio } from '../../../src/studio.js';
import { parseRfc4180, parseTopk } from '../../helpers/rfc4180.js';
import { captureIO, trainedFixture, type TrainedFixture } from './fixture.js';

let fx: TrainedFixture;
let exportDir: string;
let copies = 0;

beforeAll(async () => {
  fx = await trainedFixture();
  exportDir = path.join(fx.root, 'export');
  const io = captureIO();
  expect(await runCli(['export', '--run', String(fx.runId), '--out', exportDir, '--library', fx.lib, '--json'], io), io.stderr).toBe(0);
});
afterAll(() => fx?.cleanup());

/** A copy of the real export, changed by `edit`. */
function tampered(edit: (dir: string) => void): string {
  const dir = path.join(fx.root, `tampered-${++copies}`);
  fs.cpSync(exportDir, dir, { recursive: true });
  edit(dir);
  return dir;
}

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));
const editJson = (file: string, edit: (value: never) => unknown): void => fs.writeFileSync(file, JSON.stringify(edit(readJson(file) as never)));

/** Imports `dir` into a fresh library, expects the refusal `reason`, and checks that no row and no folder is left. */
async function expectRefused(dir: string, reason: RegExp): Promise<void> {
  const lib = path.join(fx.root, `lib-${++copies}`);
  const studio = openStudio({ libraryDir: lib, host: 'cli' });
  try {
    await expect(studio.call('models.import', { dir })).rejects.toThrow(reason);
    expect(await studio.call('models.list')).toEqual([]);
  } finally {
    await studio.close();
  }
  const models = path.join(lib, 'models');
  expect(fs.existsSync(models) ? fs.readdirSync(models) : []).toEqual([]);
}

describe('models.import refuses a tampered model folder, leaving neither row nor folder', () => {
  it('labels.json with one label more or one fewer than the network outputs', async () => {
    const more = tampered((d) => editJson(path.join(d, 'labels.json'), (l: string[]) => [...l, 'extra']));
    await expectRefused(more, /labels\.json names 4 classes but the network in model\.json outputs 3/);
    const fewer = tampered((d) => editJson(path.join(d, 'labels.json'), (l: string[]) => l.slice(0, 2)));
    await expectRefused(fewer, /labels\.json names 2 classes but the network in model\.json outputs 3/);
  });

  it('preprocessing.json asking for 60000-pixel inputs or resizes', async () => {
    const input = tampered((d) => editJson(path.join(d, 'preprocessing.json'), (p: object) => ({ ...p, inputSize: 60000 })));
    await expectRefused(input, /preprocessing\.json is not ConvNet Studio preprocessing: inputSize: .*512/);
    const resize = tampered((d) => editJson(path.join(d, 'preprocessing.json'), (p: object) => ({ ...p, resizeSize: 60000 })));
    await expectRefused(resize, /preprocessing\.json is not ConvNet Studio preprocessing: resizeSize: .*1024/);
    const mismatch = tampered((d) => editJson(path.join(d, 'preprocessing.json'), (p: object) => ({ ...p, inputSize: 64, resizeSize: 72 })));
    await expectRefused(mismatch, /inputSize 64 does not match the network's input \[null,32,32,3\]/);
  });

  it('a README.md that is a symbolic link to a file outside the folder', async () => {
    const secret = path.join(fx.root, 'secret.txt');
    fs.writeFileSync(secret, 'not for the library\n');
    const dir = tampered((d) => {
      fs.rmSync(path.join(d, 'README.md'));
      fs.symlinkSync(secret, path.join(d, 'README.md'));
    });
    await expectRefused(dir, /README\.md is a symbolic link, not a regular file/);
  });

  it('a weight shard that is a FIFO, or a symbolic link', async () => {
    const fifo = tampered((d) => {
      fs.rmSync(path.join(d, 'group1-shard1of1.bin'));
      execFileSync('mkfifo', [path.join(d, 'group1-shard1of1.bin')]);
    });
    await expectRefused(fifo, /group1-shard1of1\.bin is a named pipe \(FIFO\), not a regular file/);
    const link = tampered((d) => {
      fs.renameSync(path.join(d, 'group1-shard1of1.bin'), path.join(fx.root, `outside-${copies}.bin`));
      fs.symlinkSync(path.join(fx.root, `outside-${copies}.bin`), path.join(d, 'group1-shard1of1.bin'));
    });
    await expectRefused(link, /group1-shard1of1\.bin is a symbolic link/);
  });

  it('weightsManifest paths that leave the folder, and malformed model.json', async () => {
    const up = tampered((d) => {
      fs.renameSync(path.join(d, 'group1-shard1of1.bin'), path.join(fx.root, `up-${copies}.bin`));
      editJson(path.join(d, 'model.json'), (m: { weightsManifest: Array<{ paths: string[] }> }) => {
        m.weightsManifest[0]!.paths = [`../up-${copies}.bin`];
        return m;
      });
    });
    await expectRefused(up, /model\.json: weight file "\.\.\/up-\d+\.bin" must be a plain file name in the model folder itself/);
    const absolute = tampered((d) =>
      editJson(path.join(d, 'model.json'), (m: { weightsManifest: Array<{ paths: string[] }> }) => {
        m.weightsManifest[0]!.paths = [path.join(d, 'group1-shard1of1.bin')];
        return m;
      }),
    );
    await expectRefused(absolute, /model\.json: weight file ".*group1-shard1of1\.bin" must be a plain file name/);
    const shape = tampered((d) => editJson(path.join(d, 'model.json'), (m: object) => ({ ...m, weightsManifest: [{ paths: 'group1-shard1of1.bin', weights: [] }] })));
    await expectRefused(shape, /model\.json is not a TensorFlow\.js layers model: weightsManifest\.0\.paths: /);
    const size = tampered((d) => fs.appendFileSync(path.join(d, 'group1-shard1of1.bin'), Buffer.alloc(8)));
    await expectRefused(size, /The weight files hold \d+ bytes \(group1-shard1of1\.bin in .*\); model\.json describes \d+ \(weightsManifest\[0\]\)/);
  });

  it('still imports the untouched export, and sweeps the copying folders of killed imports', async () => {
    const lib = path.join(fx.root, 'good-lib');
    // What a process killed mid-copy leaves (pid 2^22 + 1 is above Linux's pid_max), and a live process's copy in progress.
    const dead = path.join(lib, 'models', `.import-${2 ** 22 + 1}-x1`);
    const live = path.join(lib, 'models', `.import-${process.ppid}-x2`);
    for (const d of [dead, live]) {
      fs.mkdirSync(d, { recursive: true });
      fs.writeFileSync(path.join(d, 'model.json'), '{');
    }
    const studio = openStudio({ libraryDir: lib, host: 'cli' });
    try {
      const model = await studio.call('models.import', { dir: exportDir });
      expect(model.classes).toEqual(['circle', 'hstripes', 'square']);
      expect(fs.readdirSync(path.join(lib, 'models')).sort()).toEqual(['.import-' + process.ppid + '-x2', '1']);
      fs.rmSync(live, { recursive: true });
      expect(fs.readdirSync(path.join(lib, 'models', '1')).sort()).toEqual(fs.readdirSync(exportDir).sort());
    } finally {
      await studio.close();
    }
  });
});

describe('classify answers each image with its own probabilities', () => {
  it('fails, with the reason, on a folder whose labels do not match the outputs, instead of shifting the scores', async () => {
    const more = tampered((d) => editJson(path.join(d, 'labels.json'), (l: string[]) => [...l, 'extra']));
    const studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
    try {
      const { jobId } = await studio.call('classify.files', { source: { modelDir: more }, paths: fx.good });
      const job = await studio.call('classify.job', { jobId, wait: true });
      expect(job.results).toEqual([]);
      expect(job.status).toBe('failed');
      expect(job.error).toMatch(/labels\.json names 4 classes but the network in model\.json outputs 3/);
    } finally {
      await studio.close();
    }
  });

  it('gives each of 6 images in one batch the probabilities it gets alone', async () => {
    const studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
    try {
      const probs = (r: { predictions: Array<{ label: string; probability: number }> }): Record<string, number> =>
        Object.fromEntries(r.predictions.map((p) => [p.label, p.probability]));
      const batch = await studio.call('classify.job', { jobId: (await studio.call('classify.files', { source: { modelDir: exportDir }, paths: fx.good })).jobId, wait: true });
      expect(batch.results.map((r) => r.path)).toEqual(fx.good);
      const distinct = new Set(batch.results.map((r) => probs(r).circle!.toFixed(4)));
      expect(distinct.size).toBeGreaterThan(1);
      for (const file of fx.good) {
        const alone = await studio.call('classify.job', { jobId: (await studio.call('classify.files', { source: { modelDir: exportDir }, paths: [file] })).jobId, wait: true });
        const mine = probs(batch.results.find((r) => r.path === file)!);
        for (const [label, p] of Object.entries(probs(alone.results[0]!))) {
          expect(Math.abs(p - mine[label]!), `${path.basename(file)} ${label}`).toBeLessThan(1e-4);
        }
      }
    } finally {
      await studio.close();
    }
  });
});

describe('CSV results with hostile labels', () => {
  it('shows a formula label as text and keeps |, comma, quote and newline labels exact, through the CLI and classify.exportResults', async () => {
    const formula = "=cmd|' /C calc'!A0";
    const awkward = 'odd|label, "quoted"\nsecond line';
    const labels = [formula, awkward, '@plain'];
    const dir = tampered((d) => fs.writeFileSync(path.join(d, 'labels.json'), JSON.stringify(labels)));
    const io = captureIO();
    expect(await runCli(['classify', '--model', dir, '--csv', '--library', fx.lib, ...fx.good], io), io.stderr).toBe(0);

    const studio = openStudio({ libraryDir: fx.lib, host: 'cli' });
    let exported: string;
    try {
      const { jobId } = await studio.call('classify.files', { source: { modelDir: dir }, paths: fx.good });
      await studio.call('classify.job', { jobId, wait: true });
      exported = (await studio.call('classify.exportResults', { jobId, format: 'csv' })).text!;
    } finally {
      await studio.close();
    }
    for (const text of [io.stdout, exported]) {
      const rows = parseRfc4180(text);
      expect(rows[0]).toEqual(['path', 'top1', 'confidence', 'top5', 'error']);
      expect(rows.slice(1).map((r) => r[0])).toEqual(fx.good);
      for (const [, top1, confidence, top5, error] of rows.slice(1)) {
        // What the cell shows: the label itself, or behind a ' when a spreadsheet would run it.
        expect(["'" + formula, awkward, "'@plain"]).toContain(top1);
        expect(top1).not.toMatch(/^[=+\-@]/);
        expect(top5).not.toMatch(/^[=+\-@]/);
        expect(error).toBe('');
        const parsed = parseTopk(top5!.startsWith("'") ? top5!.slice(1) : top5!);
        expect(parsed.map((p) => p.label).sort()).toEqual([...labels].sort());
        expect(parsed[0]!.probability.toFixed(6)).toBe(confidence);
        expect(top1!.replace(/^'/, '')).toBe(parsed[0]!.label);
      }
    }
  });
});
