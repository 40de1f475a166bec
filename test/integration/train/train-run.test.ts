import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { repoRoot, tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

function quietIO(): CliIO & { stdout: string } {
  const io = { stdout: '', isTTY: false, env: {}, out: (t: string) => void (io.stdout += t), err: () => undefined };
  return io;
}

/** A library holding one imported shapes dataset; returns its folder and dataset id. */
async function libraryWithShapes(perClass: number, classes?: string[]): Promise<{ lib: string; datasetId: number }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const images = path.join(t.dir, 'images');
  await writeShapesDataset(images, perClass, 32, 1, classes);
  const lib = path.join(t.dir, 'lib');
  const io = quietIO();
  expect(await runCli(['import', images, '--library', lib, '--name', 'shapes', '--json'], io)).toBe(0);
  return { lib, datasetId: JSON.parse(io.stdout).dataset.id };
}

describe('training a run on a generated dataset', () => {
  let studio: Studio;
  let datasetId: number;

  beforeAll(async () => {
    const made = await libraryWithShapes(60);
    datasetId = made.datasetId;
    studio = openStudio({ libraryDir: made.lib, host: 'cli' });
  });
  afterAll(async () => studio?.close());

  it('alexnet-small on wasm learns 10 shape classes well above chance, recording every epoch', async () => {
    const epochs: number[] = [];
    const progress: string[] = [];
    const off1 = studio.events.on('train.epoch', (e) => epochs.push(e.epoch));
    const off2 = studio.events.on('train.progress', (p) => progress.push(p.phase));
    const { id } = await studio.call('runs.start', { datasetId, arch: 'alexnet-small', epochs: 10, batchSize: 32, lr: 0.02, backend: 'wasm', seed: 3 });
    await studio.training.settled(id);
    off1();
    off2();
    const run = await studio.call('runs.get', { id });
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.backend).toBe('wasm');
    expect(run.epochsData.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(progress).toContain('preparing');
    expect(progress).toContain('training');
    // Chance is 90 % top-1 error for 10 classes; weights start random (unseeded), so leave a margin.
    expect(run.bestValTop1Error!).toBeLessThan(0.65);
    expect(run.epochsData.at(-1)!.trainLoss).toBeLessThan(run.epochsData[0]!.trainLoss);
    expect(run.classes).toHaveLength(10);
    expect(run.configDiff).toMatchObject({ epochs: 10, batchSize: 32, lr: 0.02, backend: 'wasm', seed: 3 });
    expect(fs.existsSync(path.join(studio.library.runsDir, String(id), 'checkpoint', 'model.json'))).toBe(true);

    const evaluation = await studio.call('runs.evaluate', { id, split: 'val' });
    expect(evaluation.images).toBe(60);
    expect(evaluation.top1Error).toBeCloseTo(run.epochsData.at(-1)!.valTop1Error!, 5);
    expect(evaluation.confusion.flat().reduce((a, b) => a + b, 0)).toBe(60);
    const tenCrop = await studio.call('runs.evaluate', { id, split: 'test', tenCrop: true });
    expect(tenCrop.images).toBe(60);
    expect(tenCrop.tenCrop).toBe(true);
  }, 600_000);

  it('refuses a second concurrent run and an unknown dataset with clear messages', async () => {
    await expect(studio.call('runs.start', { datasetId: 999 })).rejects.toThrow(/Dataset 999 does not exist/);
    const { id } = await studio.call('runs.start', { datasetId, epochs: 1, batchSize: 32, backend: 'wasm' });
    await expect(studio.call('runs.start', { datasetId, epochs: 1 })).rejects.toThrow(/is training/);
    await studio.call('runs.stop', { id });
    await studio.training.settled(id);
    expect((await studio.call('runs.get', { id })).status).toBe('stopped');
  }, 300_000);
});

describe('stopping, killing and resuming', () => {
  it('a stopped run resumes from its checkpoint and continues the same schedule', async () => {
    const { lib, datasetId } = await libraryWithShapes(16, ['circle', 'square', 'hstripes']);
    const studio = openStudio({ libraryDir: lib, host: 'cli' });
    try {
      const off = studio.events.on('train.epoch', (e) => {
        if (e.epoch === 1) {
          void studio.call('runs.stop', { id: e.runId });
        }
      });
      const { id } = await studio.call('runs.start', { datasetId, epochs: 3, batchSize: 8, backend: 'wasm', schedule: { kind: 'cosine' } });
      await studio.training.settled(id);
      off();
      const stopped = await studio.call('runs.get', { id });
      expect(stopped.status).toBe('stopped');
      expect(stopped.epochsDone).toBeGreaterThanOrEqual(1);
      await studio.call('runs.resume', { id });
      await studio.training.settled(id);
      const done = await studio.call('runs.get', { id });
      expect(done.status).toBe('completed');
      expect(done.epochsData.map((e) => e.epoch)).toEqual([1, 2, 3]);
      // cosine over 3 epochs from 0.01: epoch 2 runs at 0.0075, epoch 3 at 0.0025
      expect(done.epochsData[1]!.lr).toBeCloseTo(0.0075, 6);
      expect(done.epochsData[2]!.lr).toBeCloseTo(0.0025, 6);
      expect(done.log.some((l) => /Resuming from the checkpoint/.test(l.message))).toBe(true);
    } finally {
      await studio.close();
    }
  }, 300_000);

  it('a time limit ends the run cleanly, evaluated and checkpointed', async () => {
    const { lib, datasetId } = await libraryWithShapes(16, ['circle', 'square', 'hstripes']);
    const studio = openStudio({ libraryDir: lib, host: 'cli' });
    try {
      const { id } = await studio.call('runs.start', { datasetId, epochs: 500, batchSize: 8, backend: 'wasm', timeLimitMinutes: 0.05 });
      await studio.training.settled(id);
      const run = await studio.call('runs.get', { id });
      expect(run.status).toBe('completed');
      expect(run.epochsDone).toBeGreaterThanOrEqual(1);
      expect(run.epochsDone).toBeLessThan(500);
      expect(run.epochsData.at(-1)!.valTop1Error).not.toBeNull();
      expect(run.log.some((l) => /Time limit of 0.05 min reached/.test(l.message))).toBe(true);
      expect(fs.existsSync(path.join(lib, 'runs', String(id), 'checkpoint', 'checkpoint.json'))).toBe(true);
    } finally {
      await studio.close();
    }
  }, 300_000);

  it('`convnet train --json` prints one line per epoch; a killed process resumes with `convnet resume`', async () => {
    const { lib } = await libraryWithShapes(16, ['circle', 'square', 'hstripes']);
    const bin = path.join(repoRoot, 'bin', 'convnet.js');
    const child = spawn(process.execPath, [bin, 'train', '--dataset', 'shapes', '--library', lib, '--epochs', '4', '--batch-size', '8', '--backend', 'wasm', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = readline.createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`convnet train exited (${code}) before its first epoch`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(Object.keys(JSON.parse(first)).sort()).toEqual(['epoch', 'imagesPerSecond', 'lr', 'trainLoss', 'valLoss', 'valTop1Error', 'valTop5Error'].sort());

    // The killed process left the run "running"; its PID is dead, so the next reader calls it interrupted at once.
    const resumed = spawnSync(process.execPath, [bin, 'resume', '--run', '1', '--library', lib, '--json'], { encoding: 'utf8', timeout: 280_000 });
    expect(resumed.status).toBe(0);
    const out = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const last = out.at(-1);
    expect(last.run).toMatchObject({ id: 1, status: 'completed' });
    expect(typeof last.run.bestValTop1Error).toBe('number');
    const epochs = out.slice(0, -1).map((l: { epoch: number }) => l.epoch);
    expect(epochs.at(-1)).toBe(4);
    expect(epochs[0]).toBeGreaterThanOrEqual(2);

    const evalOut = spawnSync(process.execPath, [bin, 'eval', '--run', '1', '--library', lib, '--split', 'test', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(evalOut.status).toBe(0);
    const e = JSON.parse(evalOut.stdout);
    expect(Object.keys(e)).toEqual(['images', 'top1Error', 'top5Error', 'perClass', 'confusion']);
    expect(e.confusion).toHaveLength(3);
    expect(e.perClass[0]).toHaveProperty('precision');
  }, 400_000);
});
