import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { openStudio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';

let tmp: { dir: string; cleanup(): void };
let library: string;

function captureIO(): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, env: {}, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

beforeAll(async () => {
  tmp = tempDir('convnet-cli-runs-');
  const images = path.join(tmp.dir, 'images');
  await writeShapesDataset(images, 6, 32, 1, ['circle', 'square']);
  library = path.join(tmp.dir, 'lib');
  expect(await runCli(['import', images, '--library', library, '--name', 'shapes', '--json'], captureIO())).toBe(0);
});

afterAll(() => tmp.cleanup());

describe('convnet train / runs', () => {
  it('train says which backend it uses in one short line, not the reasoning behind it', async () => {
    const io = captureIO();
    expect(await runCli(['train', '--dataset', 'shapes', '--library', library, '--epochs', '1', '--batch-size', '4', '--backend', 'wasm', '--time-limit', '2', '--threads', '1'], io)).toBe(0);
    const backendLines = io.stderr.split('\n').filter((l) => /backend/i.test(l));
    expect(backendLines).toEqual([expect.stringMatching(/^Run 1: backend wasm on CPU .*, 1 thread \(`convnet info` says why\)$/)]);
    expect(io.stderr).not.toMatch(/libtensorflow|XNNPACK|optional/);
  }, 120_000);

  it('runs lists the runs with their ids; --json gives the same list for scripts, --time-limit in minutes', async () => {
    const io = captureIO();
    expect(await runCli(['runs', '--library', library], io)).toBe(0);
    expect(io.stdout).toMatch(/^id\s+dataset\s+arch\s+status\s+epochs\s+top-1 err/);
    expect(io.stdout).toMatch(/^ 1\s+shapes\s+alexnet-small\s+completed\s+1\/1\s/m);
    const json = captureIO();
    expect(await runCli(['runs', '--library', library, '--json'], json)).toBe(0);
    const list = JSON.parse(json.stdout);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: 1, datasetName: 'shapes', arch: 'alexnet-small', status: 'completed', epochsDone: 1, backend: 'wasm' });
    const studio = openStudio({ libraryDir: library, host: 'cli' });
    try {
      const run = await studio.call('runs.get', { id: 1 });
      expect(run.config).toMatchObject({ timeLimitMinutes: 2, threads: 1 });
      expect(run.threads).toBe(1);
    } finally {
      await studio.close();
    }
  }, 120_000);

  it('--threads takes a whole number from 1 to 256, and says so otherwise', async () => {
    for (const bad of ['0', '2.5', 'many', '1000']) {
      const io = captureIO();
      expect(await runCli(['train', '--dataset', 'shapes', '--library', library, '--threads', bad], io)).toBe(2);
      expect(io.stderr).toContain(`--threads must be a whole number from 1 to 256, got "${bad}".`);
    }
  });

  it('a run whose stored config is broken is still listed, with the reason under the table', async () => {
    const copy = path.join(tmp.dir, 'broken-lib');
    fs.cpSync(library, copy, { recursive: true });
    const db = new Database(path.join(copy, 'library.sqlite'));
    db.prepare(`UPDATE runs SET config = '{"datasetId": 1,' WHERE id = 1`).run();
    db.close();
    const io = captureIO();
    expect(await runCli(['runs', '--library', copy], io)).toBe(0);
    expect(io.stdout).toMatch(/^ 1\s+shapes\s+alexnet-small\s+completed\s/m);
    expect(io.stdout).toMatch(/^Run 1: Run 1's stored config is not JSON/m);
  });

  it('an empty library says how to start a run', async () => {
    const io = captureIO();
    expect(await runCli(['runs', '--library', path.join(tmp.dir, 'empty')], io)).toBe(0);
    expect(io.stdout).toBe('No runs yet. Start one with: convnet train --dataset ID|NAME\n');
  });
});
