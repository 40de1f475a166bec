// The PyTorch bundle in browser mode: Classify's export card writes a bundle (and shows train.py --check),
// train.py trains it for one epoch, and Runs' "Import PyTorch result…" brings it back as a linked run.
// The parts that need a Python with torch skip, saying why, where there is none.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

const python = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import torch, PIL, numpy'], { encoding: 'utf8' }).status === 0) ?? null;
if (!python) {
  console.warn('Skipping the torch bundle UI test: no Python here imports torch, Pillow and NumPy.');
}

let serve: ServeProcess | null = null;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let library: string;
let bundle: string;
const errors: string[] = [];

const convnet = (...args: string[]): string => execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });

beforeAll(async () => {
  if (!python) {
    return;
  }
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 12, 36, 1, ['circle', 'square', 'hstripes']);
  library = path.join(t.dir, 'library');
  convnet('import', shapes, '--library', library, '--json');
  convnet('train', '--dataset', 'shapes', '--arch', 'alexnet-small', '--epochs', '1', '--batch-size', '8', '--backend', 'wasm', '--library', library, '--json');
  bundle = path.join(t.dir, 'bundle');
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  recordPageErrors(page, errors);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe.skipIf(!python)('PyTorch bundle in browser mode', () => {
  it('exports run 1 as a bundle from Classify and shows its train.py --check', async () => {
    await page.goto(serve!.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
    const card = page.getByTestId('torch-bundle-export');
    await card.waitFor();
    await card.getByLabel('PyTorch bundle folder on the server (new or empty)').fill(bundle);
    await card.getByRole('button', { name: 'Export PyTorch bundle' }).click();
    const result = page.getByTestId('torch-bundle-result');
    await result.waitFor({ timeout: 180_000 });
    expect(await result.textContent()).toMatch(/✓ train\.py --check \(torch [\d.a-z]+\): 8 reference images, 3 classes, 461763 parameters: max \|logit difference\| \S+ \(limit 1e-04\), top-1 agreement 100\.0% -> OK/);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('e2e', 'torch-bundle-export.png') });
    expect(fs.existsSync(path.join(bundle, 'train.py'))).toBe(true);
  }, 240_000);

  it('imports the trained bundle from Runs as a run linked to run 1', async () => {
    const r = spawnSync(python!, ['train.py', '--epochs', '1', '--workers', '0', '--data-root', path.join(path.dirname(bundle), 'shapes')], { cwd: bundle, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Runs', exact: true }).click();
    await page.getByRole('button', { name: 'Import PyTorch result…' }).click();
    await page.getByLabel('Bundle folder on the server').fill(bundle);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const result = page.getByTestId('import-bundle-result');
    await result.waitFor({ timeout: 180_000 });
    const text = (await result.textContent())!;
    expect(text).toMatch(/Run #2 imported from run #1: 1 epoch trained with PyTorch .*, 1 process \(single process\) on cpu\./);
    const reported = /Bundle reported: validation top-1 error (\S+)%/.exec(text)![1];
    const here = /Evaluated here \(val, \d+ images\): top-1 error (\S+)%/.exec(text)![1];
    expect(here).toBe(reported);
    await page.getByTestId('run-origin').waitFor();
    expect(await page.getByTestId('run-origin').textContent()).toBe('in a PyTorch bundle, from run #1');
    await page.screenshot({ path: artifactPath('e2e', 'torch-bundle-import.png') });
    expect(errors).toEqual([]);
  }, 240_000);
});
