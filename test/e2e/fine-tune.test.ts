// Fine-tuning in the UI, browser mode: a library where the CLI trained a run on 4 shape classes and imported its
// exported model; the Train view suggests the fast head for a 3-class dataset of 12 images each, shows what will be
// copied, re-initialised and frozen, starts it, and the Runs view shows the lineage.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { SHAPE_CLASSES, writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
const errors: string[] = [];
const cli = (...args: string[]): string => execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  await writeShapesDataset(path.join(t.dir, 'shapes'), 20, 32, 1, SHAPE_CLASSES.slice(0, 4));
  await writeShapesDataset(path.join(t.dir, 'textures'), 12, 32, 2, SHAPE_CLASSES.slice(4, 7));
  cli('import', path.join(t.dir, 'shapes'), '--library', library, '--json');
  cli('import', path.join(t.dir, 'textures'), '--library', library, '--json');
  cli('train', '--library', library, '--dataset', 'shapes', '--arch', 'alexnet-small', '--epochs', '1', '--batch-size', '16', '--backend', 'wasm', '--json');
  cli('export', '--library', library, '--run', '1', '--out', path.join(t.dir, 'exported'));
  cli('models', 'import', path.join(t.dir, 'exported'), '--library', library, '--name', 'shapes model');
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  recordPageErrors(page, errors);
  await page.goto(serve.url);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });

describe('fine-tuning in the Train and Runs views', () => {
  it('suggests the fast head for a small dataset, shows the plan, trains it and shows the lineage', async () => {
    await nav('Train').click();
    await page.getByTestId('train-form').waitFor();
    await page.getByLabel('Dataset', { exact: true }).selectOption({ label: 'textures — 36 images, 3 classes' });
    const suggestion = page.getByTestId('fast-head-suggestion');
    await suggestion.waitFor();
    expect(await suggestion.textContent()).toContain('textures has under 100 images per class: a fast head on shapes model (alexnet-small, 4 classes) trains in seconds.');
    await suggestion.getByRole('button', { name: 'Use the fast head' }).click();
    expect(await page.getByLabel('Starting weights').locator('option:checked').textContent()).toBe('Model 1 — shapes model (alexnet-small, 4 classes)');
    const plan = page.getByTestId('fine-tune-plan');
    expect(await plan.textContent()).toContain("fc8, the last layer, sized to this dataset's 3 classes");
    expect(await plan.textContent()).toContain('conv1–fc7: the fast head');
    expect((await page.getByTestId('start-from').textContent())!.replace(/\s+/g, ' ')).toContain("Fine-tuning defaults: 30 epochs instead of the paper's 90; the copied layers learn at 0.1× the learning rate (0.001)");
    expect(await page.getByLabel('Epochs', { exact: true }).inputValue()).toBe('30');
    await page.getByLabel('Epochs', { exact: true }).fill('4');
    await page.getByLabel('Batch size').fill('8');
    await page.getByRole('radio', { name: /WebAssembly/ }).check();
    await page.screenshot({ path: artifactPath('e2e', 'fine-tune-form.png') });

    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByTestId('train-finished').waitFor({ timeout: 180_000 });
    expect(await page.getByTestId('train-final-status').textContent()).toBe('Completed');
    await page.getByTestId('open-in-runs').click();
    const row = page.locator('[data-run-id="2"]');
    await row.waitFor();
    expect(await row.getByTestId('run-row-parent').textContent()).toBe('← model 1');
    await page.getByTestId('run-detail').waitFor();
    expect(await page.getByTestId('run-lineage').textContent()).toMatch(/^\s*Fine-tuned from\s+model 1 \(shapes model\)\s*$/);
    expect(await page.getByTestId('run-log').textContent()).toContain('frozen conv1, conv2, conv3, conv4, conv5, fc6, fc7');
    await page.screenshot({ path: artifactPath('e2e', 'fine-tune-lineage.png') });
    expect(errors).toEqual([]);
  }, 300_000);
});
