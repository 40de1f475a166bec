// Validation and test results where users look, end to end in browser mode: a dataset given as train/ + test/
// folders and imported without a validation split warns with the fix, Re-split carves val out of train (test
// kept), training shows its prediction pass for what it is, and the test error appears in the finished card, the
// Runs table, the run header, Compare and the Classify model card. Run 1 (CLI, before the carve) has no
// validation curve; run 2 (UI, after it) has one.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let secondSource: string;
const errors: string[] = [];
const ERROR = /^\d+\.\d%$/;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  const classes = ['circle', 'square', 'hstripes'];
  await writeShapesDataset(path.join(shapes, 'train'), 24, 32, 1, classes);
  await writeShapesDataset(path.join(shapes, 'test'), 8, 32, 2, classes);
  secondSource = path.join(t.dir, 'more-shapes');
  await writeShapesDataset(path.join(secondSource, 'train'), 24, 32, 3, classes);
  await writeShapesDataset(path.join(secondSource, 'test'), 8, 32, 4, classes);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  const convnet = (...args: string[]): string =>
    execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', library], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });
  // As imported before validation was carved: train 72, val 0, test 24.
  convnet('import', shapes, '--val-from-train', '0', '--json');
  convnet('train', '--dataset', 'shapes', '--epochs', '2', '--batch-size', '16', '--backend', 'wasm', '--json');
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(serve.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });

describe('validation split and test results in browser mode', () => {
  it('warns that the dataset has no validation split, and Re-split carves it out of train, test kept', async () => {
    await nav('Library').click();
    const card = page.getByTestId('dataset-card').filter({ hasText: 'shapes' });
    await card.waitFor();
    const warnings = card.getByTestId('dataset-warnings');
    await expect.poll(() => warnings.textContent()).toContain('No validation images');
    expect(await warnings.textContent()).toContain('Re-split… on the dataset in the Library (Validation from train: 28 %), or `convnet resplit 1 --val-from-train 28`.');
    await page.screenshot({ path: artifactPath('e2e', 'validation-warning.png') });

    await card.getByRole('button', { name: 'Re-split' }).click();
    expect(await page.getByLabel(/Carve validation out of train/).isChecked()).toBe(true);
    await page.getByLabel('Validation from train %').fill('28');
    await page.screenshot({ path: artifactPath('e2e', 'validation-resplit-dialog.png') });
    await page.getByRole('button', { name: 'Re-split', exact: true }).last().click();
    const splits = card.getByTestId('dataset-splits');
    // 28 % of 24 per class: 7 each.
    await expect.poll(() => splits.textContent()).toMatch(/train 51\s+val 21\s+test 24/);
    expect(await card.getByTestId('val-carved').textContent()).toBe('· val carved from train (28 %)');
    expect(await card.getByTestId('val-carved').getAttribute('title')).toBe("Validation: 28 % of each class's training images (seed 0); the test split is as the source gave it");
    expect(await card.getByTestId('dataset-warnings').count()).toBe(0);
    await page.screenshot({ path: artifactPath('e2e', 'validation-carved.png') });
  });

  it('labels the prediction pass after training as evaluation, not training, and the finished card shows the test error', async () => {
    await page.evaluate(() => {
      const w = window as unknown as { phases: string[] };
      w.phases = [];
      new MutationObserver(() => {
        const phase = document.querySelector('[data-testid="train-phase"]')?.textContent;
        const message = document.querySelector('[data-testid="train-message"]')?.textContent;
        const text = `${phase ?? ''} | ${message ?? ''}`;
        if (phase && w.phases[w.phases.length - 1] !== text) {
          w.phases.push(text);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await nav('Train').click();
    await page.getByTestId('train-form').waitFor();
    await page.getByRole('radio', { name: /alexnet-small/ }).check();
    await page.getByLabel('Epochs', { exact: true }).fill('2');
    await page.getByLabel('Batch size').fill('16');
    await page.getByRole('radio', { name: /WebAssembly/ }).check();
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByTestId('train-finished').waitFor({ timeout: 180_000 });
    const phases = await page.evaluate(() => (window as unknown as { phases: string[] }).phases);
    const predicting = phases.filter((p) => p.startsWith('Training done (2 epochs); evaluating the trained model…'));
    expect(predicting.length, phases.join('\n')).toBeGreaterThan(0);
    expect(predicting.some((p) => /Evaluating the trained model on the test images: \d+ \/ 24$/.test(p)), phases.join('\n')).toBe(true);

    expect(await page.getByTestId('best-top1').textContent()).toMatch(ERROR);
    await expect.poll(() => page.getByTestId('test-top1').textContent(), { timeout: 10_000 }).toMatch(ERROR);
    expect(await page.getByTestId('test-top5').textContent()).toBe('0.0%');
    await page.screenshot({ path: artifactPath('e2e', 'validation-finished.png') });
  }, 240_000);

  it('shows both runs’ test errors in the Runs table and the run header', async () => {
    await page.getByTestId('open-in-runs').click();
    for (const id of ['1', '2']) {
      const row = page.locator(`[data-testid="run-row"][data-run-id="${id}"]`);
      await row.waitFor();
      expect(await row.getByTestId('run-row-test-top1').textContent()).toMatch(ERROR);
      expect(await row.getByTestId('run-row-test-top5').textContent()).toBe('0.0%');
    }
    // Run 1 trained without a validation split: no validation error, yet its test error is there.
    expect(await page.locator('[data-run-id="1"]').getByTestId('run-row-top1').textContent()).toBe('—');
    expect(await page.getByTestId('runs-table').locator('thead').textContent()).toMatch(/Val top-1.*Val top-5.*Test top-1.*Test top-5/);
    await page.locator('[data-testid="run-row"][data-run-id="1"]').click();
    await page.getByTestId('run-detail').waitFor();
    expect(await page.getByTestId('run-detail-test').textContent()).toMatch(/^\d+\.\d% \/ 0\.0%$/);
    expect(await page.getByTestId('run-detail-best').textContent()).toBe('— / —');
    await page.screenshot({ path: artifactPath('e2e', 'validation-run-header.png') });
    await page.getByRole('button', { name: 'Close run detail' }).click();
  });

  it('Compare draws training loss, validation and test errors per run', async () => {
    await page.getByLabel('Compare run 1').check();
    await page.getByLabel('Compare run 2').check();
    const compare = page.getByTestId('compare-runs');
    await compare.waitFor();
    // Training loss: two epochs of each run.
    await expect.poll(() => page.getByTestId('compare-loss').getAttribute('data-points')).toBe('4');
    // Top-1 error: run 2's two validation points, and each run's test error.
    await expect.poll(() => page.getByTestId('compare-top1').getAttribute('data-points')).toBe('4');
    const legend = await page.getByTestId('compare-top1').locator('.legend').textContent();
    expect(legend).toContain('#1 alexnet-small test');
    expect(legend).toContain('#2 alexnet-small val');
    expect(legend).toContain('#2 alexnet-small test');
    expect(legend).not.toContain('#1 alexnet-small val');
    const rows = page.getByTestId('compare-errors-row');
    expect(await rows.count()).toBe(2);
    for (const text of await rows.allTextContents()) {
      expect(text).toMatch(/\d+\.\d%\s*0\.0%$/);
    }
    expect(await compare.textContent()).toContain('Runs without a validation curve trained on a dataset with no validation split');
    await compare.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('e2e', 'validation-compare.png'), fullPage: true });
  });

  it('the Classify model card shows the test error', async () => {
    await nav('Classify').click();
    await page.getByTestId('model-picker').waitFor();
    const picker = page.getByLabel('Model', { exact: true });
    await picker.selectOption((await picker.locator('option', { hasText: 'Run 1 —' }).getAttribute('value'))!);
    await expect.poll(() => page.getByTestId('model-test').textContent()).toMatch(/^\d+\.\d% \/ 0\.0%$/);
    expect(await page.getByTestId('model-top1').textContent()).toBe('—');
    await page.screenshot({ path: artifactPath('e2e', 'validation-classify.png') });
  });

  it('an import from the Library of train/ + test/ folders carves val and says it is small, with the fix', async () => {
    await nav('Library').click();
    await page.getByLabel('Folder or CSV path on the server').fill(secondSource);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('import-summary').waitFor({ timeout: 60_000 });
    // 10 % of 24 training images per class: 2 each.
    await expect.poll(() => page.getByTestId('import-summary-counts').textContent()).toMatch(/train 66, val 6, test 24/);
    expect(await page.getByTestId('import-summary-validation').textContent()).toBe(
      'Only 6 validation images (at least 20 are useful for 3 classes): validation error moves in steps of 16.7 %, too coarse to choose the best epoch or to lower the learning rate on a plateau. ' +
        'Carve a validation split out of the training images: Re-split… on the dataset in the Library (Validation from train: 28 %), or `convnet resplit 2 --val-from-train 28`.',
    );
    await page.screenshot({ path: artifactPath('e2e', 'validation-import-summary.png') });
    expect(errors).toEqual([]);
  });
});
