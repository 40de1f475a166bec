// The Train and Runs views in browser mode, end to end: a real `convnet serve` on a temp library with a generated
// shapes dataset (3 classes × 30 images, 32 px) imported by the CLI, and Debian's Chromium driving the UI.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
const errors: string[] = [];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 30, 32, 1, ['circle', 'square', 'hstripes']);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', shapes, '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe' });
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  recordPageErrors(page, errors);
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
/** A number input's value, by its label. */
const shown = async (label: string): Promise<number> => Number(await page.getByLabel(label, { exact: true }).inputValue());

async function api<T>(method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${serve.origin}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${serve.token}` }, body: JSON.stringify(input) });
  return ((await res.json()) as { result: T }).result;
}

describe('Train and Runs in browser mode', () => {
  it('shows the form with the paper’s defaults and marks what differs', async () => {
    await nav('Train').click();
    const form = page.getByTestId('train-form');
    await form.waitFor();
    expect(await form.textContent()).toContain("Defaults are the paper's recipe");
    expect(await page.getByLabel('Dataset').locator('option:checked').textContent()).toContain('shapes — 90 images, 3 classes');
    expect(await page.getByLabel('Batch size').inputValue()).toBe('128');
    expect(await page.getByLabel('Learning rate').inputValue()).toBe('0.01');
    expect(await page.getByTestId('train-changes').textContent()).toContain('Everything as in the paper');
    // Every number the form starts from is what the engine's runs.defaults answers, for each schedule kind too.
    type Plateau = { kind: 'plateau'; patience: number; factor: number; minLr: number };
    const defaults = await api<{
      config: { epochs: number; batchSize: number; lr: number; momentum: number; weightDecay: number; dropout: number; seed: number; schedule: Plateau; augment: { pcaSigma: number } };
      schedules: { step: { every: number; factor: number }; cosine: { minLr: number } };
    }>('runs.defaults');
    const d = defaults.config;
    expect(d.schedule.kind).toBe('plateau');
    expect({
      epochs: await shown('Epochs'), batchSize: await shown('Batch size'), lr: await shown('Learning rate'), momentum: await shown('Momentum'),
      weightDecay: await shown('Weight decay'), seed: await shown('Seed'), dropout: await shown('Dropout (FC1, FC2)'), pcaSigma: await shown('Colour noise σ'),
      patience: await shown('Patience (epochs)'), factor: await shown('Factor'), minLr: await shown('Minimum LR'),
    }).toEqual({
      epochs: d.epochs, batchSize: d.batchSize, lr: d.lr, momentum: d.momentum, weightDecay: d.weightDecay, seed: d.seed, dropout: d.dropout,
      pcaSigma: d.augment.pcaSigma, patience: d.schedule.patience, factor: d.schedule.factor, minLr: d.schedule.minLr,
    });
    const schedule = page.getByLabel('LR schedule');
    await schedule.selectOption('step');
    expect({ every: await shown('Every (epochs)'), factor: await shown('Factor') }).toEqual({ every: defaults.schedules.step.every, factor: defaults.schedules.step.factor });
    await schedule.selectOption('cosine');
    expect(await shown('Final LR')).toBe(defaults.schedules.cosine.minLr);
    await schedule.selectOption('plateau');
    await expect.poll(() => page.getByTestId('train-changes').textContent()).toContain('Everything as in the paper');
    // Browser mode says where training happens (no compute window here).
    expect(await page.getByTestId('compute-note').textContent()).toMatch(/Browser mode: the server keeps training in Node/);
    // Every backend the engine probed is listed with its availability.
    for (const name of ['Auto', 'WebAssembly', 'Plain JavaScript (cpu)']) {
      expect(await page.getByRole('radiogroup', { name: 'Backend' }).textContent()).toContain(name);
    }

    await page.getByRole('radio', { name: /alexnet-small/ }).check();
    await page.getByLabel('Epochs', { exact: true }).fill('2');
    await page.getByLabel('Batch size').fill('16');
    // Threads: empty means every core (the count this machine has); the run below trains on one.
    const threads = page.getByLabel('Threads', { exact: true });
    expect(await threads.getAttribute('placeholder')).toMatch(/^All cores \(\d+\)$/);
    await threads.fill('1');
    const changes = page.getByTestId('train-changes');
    await expect.poll(() => changes.textContent()).toContain('Epochs 2');
    expect(await changes.textContent()).toContain('Batch size 16');
    expect(await changes.textContent()).toContain('Threads 1');
    expect(await page.locator('.field.changed').count()).toBe(3);
    // The view scrolls inside the app shell: a tall window shows the whole form.
    await page.setViewportSize({ width: 1280, height: 1500 });
    await page.screenshot({ path: artifactPath('e2e', 'train-form.png') });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('trains live: phase, a moving progress bar, loss points, then the best error', async () => {
    // Record every value the progress bar and the loss chart take, however fast the run is.
    await page.evaluate(() => {
      const w = window as unknown as { seen: { bar: string[]; points: number[]; phases: string[] } };
      w.seen = { bar: [], points: [], phases: [] };
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid="train-progress"] [role="progressbar"]');
        const v = bar?.getAttribute('aria-valuenow');
        if (v && w.seen.bar[w.seen.bar.length - 1] !== v) {
          w.seen.bar.push(v);
        }
        const chart = document.querySelector('[data-testid="loss-chart"]');
        w.seen.points.push(Number(chart?.getAttribute('data-points') ?? 0));
        const phase = document.querySelector('[data-testid="train-phase"]')?.textContent;
        if (phase && w.seen.phases[w.seen.phases.length - 1] !== phase) {
          w.seen.phases.push(phase);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.getByTestId('run-monitor').waitFor();
    await expect.poll(() => page.getByTestId('run-backend').textContent(), { timeout: 60_000 }).toMatch(/Backend (wasm|tensorflow|cpu)/);
    // The threads in use are shown with the backend: the form's 1 on wasm (libtensorflow uses every core).
    const backendText = (await page.getByTestId('run-backend').textContent()) ?? '';
    if (backendText.includes('wasm')) {
      expect(backendText).toContain('Backend wasm · 1 thread ·');
    }

    // Pause during training to look at it still, then resume.
    await expect.poll(() => page.getByTestId('train-phase').textContent(), { timeout: 60_000, interval: 50 }).toMatch(/Training epoch|Evaluating|Preparing/);
    await page.getByRole('button', { name: 'Pause' }).click();
    // A very fast run may finish before the pause takes effect; then there is nothing to pause.
    const state = async (): Promise<string> => ((await page.getByTestId('train-finished').count()) > 0 ? 'finished' : ((await page.getByTestId('run-status').textContent()) ?? ''));
    await expect.poll(state, { timeout: 30_000 }).toMatch(/Paused|finished/);
    if ((await state()) === 'Paused') {
      expect(await page.getByTestId('train-phase').textContent()).toBe('Paused');
      expect(await page.getByTestId('train-progress').textContent()).toContain('Stop keeps the last checkpoint');
      await page.screenshot({ path: artifactPath('e2e', 'train-progress.png') });
      await page.getByRole('button', { name: 'Resume' }).click();
    }

    const finished = page.getByTestId('train-finished');
    await finished.waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('train-final-status').textContent()).toBe('Completed');
    expect(await page.getByTestId('best-top1').textContent()).toMatch(/^\d+\.\d%$/);
    expect(await page.getByTestId('best-top5').textContent()).toMatch(/^\d+\.\d%$/);
    await expect.poll(() => page.getByTestId('error-chart').getAttribute('data-points')).toBe('4');

    const seen = await page.evaluate(() => (window as unknown as { seen: { bar: string[]; points: number[]; phases: string[] } }).seen);
    expect(new Set(seen.bar).size, `progress values seen: ${seen.bar.join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(Math.max(...seen.points)).toBeGreaterThan(0);
    expect(seen.phases.join(' | ')).toContain('Training epoch 1 of 2');
    expect(Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThan(4);
    await page.screenshot({ path: artifactPath('e2e', 'train-finished.png') });
  });

  it('lists the run in Runs as completed, with its config, epochs and log', async () => {
    await page.getByTestId('open-in-runs').click();
    const row = page.getByTestId('run-row').first();
    await row.waitFor();
    expect(await row.getByTestId('run-row-status').textContent()).toBe('Completed');
    expect(await row.getByTestId('run-row-epochs').textContent()).toBe('2 / 2');
    expect(await row.getByTestId('run-row-top1').textContent()).toMatch(/^\d+\.\d%$/);
    expect(await row.textContent()).toContain('shapes');
    const detail = page.getByTestId('run-detail');
    await detail.waitFor();
    expect(await page.getByTestId('run-epochs').locator('tbody tr').count()).toBe(2);
    const changed = await page.getByTestId('run-config').locator('tr.changed th').allTextContents();
    expect(changed).toEqual(expect.arrayContaining(['Epochs', 'Batch size', 'Threads']));
    expect(await page.getByTestId('run-log').textContent()).toContain('Backend');
    expect(await page.getByTestId('run-detail-backend').textContent()).toMatch(/wasm|tensorflow|cpu/);
    await page.setViewportSize({ width: 1280, height: 1400 });
    await page.screenshot({ path: artifactPath('e2e', 'run-detail.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: artifactPath('e2e', 'run-detail-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('reattaches to a running run after a reload, stops it, and offers Resume', async () => {
    await nav('Train').click();
    await page.getByRole('button', { name: 'Train another' }).click();
    await page.getByLabel('Epochs', { exact: true }).fill('50');
    await page.getByLabel('Batch size').fill('16');
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(() => page.getByTestId('train-phase').textContent(), { timeout: 60_000 }).toMatch(/Training epoch/);

    await page.reload();
    await nav('Train').click();
    const monitor = page.getByTestId('run-monitor');
    await monitor.waitFor();
    expect(await monitor.getAttribute('data-run-id')).toBe('2');
    await expect.poll(() => page.getByTestId('train-phase').textContent(), { timeout: 30_000 }).toMatch(/Training epoch|Evaluating/);
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByTestId('train-finished').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('train-final-status').textContent()).toBe('Stopped');
    expect(await page.getByTestId('train-finished').textContent()).toContain('the checkpoint is kept');

    await nav('Runs').click();
    const row = page.locator('[data-testid="run-row"][data-run-id="2"]');
    await expect.poll(() => row.getByTestId('run-row-status').textContent()).toBe('Stopped');
    await row.click();
    await page.getByTestId('run-detail').waitFor();
    expect(await page.getByTestId('run-detail').getByRole('button', { name: 'Resume' }).isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Close run detail' }).click();
    await page.screenshot({ path: artifactPath('e2e', 'runs-table.png') });
    expect(errors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('fits the Runs table in a 1280 × 800 window without sideways scrolling', async () => {
    // Tags, a note and a dataset name as people write them: the widest rows the table shows. A run keeps the
    // dataset's name of its start, so a third, short run trains under the long name.
    await api('runs.update', { id: 1, tags: ['baseline', 'paper-recipe', 'a-rather-long-tag-for-a-cell'], note: 'First try with the paper settings.' });
    const longName = 'shapes: circles, squares and horizontal stripes at 32 px';
    await api('datasets.rename', { id: 1, name: longName });
    await api('runs.start', { datasetId: 1, epochs: 1, batchSize: 16, backend: 'wasm', threads: 1 });
    await expect.poll(async () => (await api<Array<{ id: number; status: string }>>('runs.list')).find((r) => r.id === 3)?.status, { timeout: 60_000 }).toBe('completed');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.reload();
    await nav('Runs').click();
    const table = page.getByTestId('runs-table');
    await table.waitFor();
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(3);
    const wrap = table.locator('xpath=..');
    const { scrollWidth, clientWidth } = await wrap.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
    await page.screenshot({ path: artifactPath('e2e', 'runs-table-1280.png') });
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    // Nothing is lost: what a narrow cell cuts short is in its tooltip.
    const first = page.locator('[data-testid="run-row"][data-run-id="1"]');
    expect(await first.textContent()).toContain('baseline');
    expect(await first.locator('td.tags').getAttribute('title')).toBe('baseline, paper-recipe, a-rather-long-tag-for-a-cell\nFirst try with the paper settings.');
    expect(await page.locator('[data-testid="run-row"][data-run-id="3"]').locator(`td[title="${longName}"]`).count()).toBe(1);
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(errors).toEqual([]);
  });
});
