// The CLI for a dataset given as train/ + test/ folders: the import says how many validation images it carved
// (and warns, with the fix, when there are none or too few), `convnet resplit` carves them for an existing
// dataset, and `convnet train` ends with the test result (human line and --json's last line).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';

let tmp: { dir: string; cleanup(): void };
let source: string;

function captureIO(): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, env: {}, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

const CLASSES = ['circle', 'square', 'hstripes'];

beforeAll(async () => {
  tmp = tempDir('convnet-cli-carve-');
  source = path.join(tmp.dir, 'shapes');
  // CIFAR's layout: train/<class>/ and test/<class>/, no validation folder. 20 + 6 images per class.
  await writeShapesDataset(path.join(source, 'train'), 20, 32, 1, CLASSES);
  await writeShapesDataset(path.join(source, 'test'), 6, 32, 2, CLASSES);
});

afterAll(() => tmp.cleanup());

describe('convnet import of a train/ + test/ folder', () => {
  it('prints the validation images it carved out of train, and warns that 6 are too few, with the fix', async () => {
    const io = captureIO();
    expect(await runCli(['import', source, '--library', path.join(tmp.dir, 'lib-a')], io)).toBe(0);
    expect(io.stdout).toMatch(/: 78 images in 3 classes — train 54, val 6, test 18\n/);
    expect(io.stdout).toContain(
      'Validation: 6 images carved out of train (10 % of each class, seed 0); the given test split is untouched. --val-from-train changes the share, 0 turns it off.\n',
    );
    expect(io.stdout).toContain('! Only 6 validation images (at least 20 are useful for 3 classes)');
    expect(io.stdout).toContain('`convnet resplit 1 --val-from-train 34`');
  });

  it('with --val-from-train 0 carves none and warns; `convnet resplit --val-from-train` then carves it, test kept', async () => {
    const lib = path.join(tmp.dir, 'lib-b');
    const io = captureIO();
    expect(await runCli(['import', source, '--library', lib, '--val-from-train', '0'], io)).toBe(0);
    expect(io.stdout).toMatch(/train 60, val 0, test 18\n/);
    expect(io.stdout).toContain('! No validation images: training cannot measure validation error');
    expect(io.stdout).toContain('`convnet resplit 1 --val-from-train 34`');

    const resplit = captureIO();
    expect(await runCli(['resplit', '1', '--val-from-train', '34', '--library', lib], resplit)).toBe(0);
    expect(resplit.stdout).toBe('Dataset 1 "shapes": train 39, val 21, test 18 — val carved from train (34 % of each class, seed 0); test as given\n');

    const bad = captureIO();
    expect(await runCli(['resplit', '1', '--val-from-train', '80', '--library', lib], bad)).toBe(2);
    expect(bad.stderr).toMatch(/--val-from-train must be a percentage above 0 and at most 50, got "80"/);
  });
});

describe('convnet train ends with the test result', () => {
  const lib = () => path.join(tmp.dir, 'lib-c');
  beforeAll(async () => {
    expect(await runCli(['import', source, '--library', lib(), '--json'], captureIO())).toBe(0);
  });
  const args = ['--dataset', 'shapes', '--epochs', '1', '--batch-size', '16', '--backend', 'wasm', '--seed', '2'];

  it('--json: the final line has testTop1Error and testTop5Error', async () => {
    const io = captureIO();
    expect(await runCli(['train', ...args, '--library', lib(), '--json'], io)).toBe(0);
    const last = JSON.parse(io.stdout.trim().split('\n').at(-1)!);
    expect(last.run).toMatchObject({ id: 1, status: 'completed' });
    expect(last.run.testTop1Error).toBeGreaterThanOrEqual(0);
    expect(last.run.testTop1Error).toBeLessThanOrEqual(1);
    // Three classes: every label is in the top 5.
    expect(last.run.testTop5Error).toBe(0);
  }, 300_000);

  it('people read the test error on the last line', async () => {
    const io = captureIO();
    expect(await runCli(['train', ...args, '--library', lib()], io)).toBe(0);
    const lastLine = io.stdout.trim().split('\n').at(-1)!;
    expect(lastLine).toMatch(/^Run 2 completed\. Best validation top-1 error \d+\.\d%, top-5 0\.0%\. Test top-1 error \d+\.\d%, top-5 0\.0%\.$/);
  }, 300_000);
});
