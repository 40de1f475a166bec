// The Classify view in browser mode, end to end: a real `convnet serve` on a temp library with a generated shapes
// dataset and a tiny run trained by the CLI; Chromium chooses the run, classifies a folder typed as a path (good
// shapes, a truncated PNG, a text file named .png), sorts the table, saves the CSV and exports the model.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { installStandInBridge, launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { drawShape, writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

const CLASSES = ['circle', 'square', 'hstripes'];
const GOOD = ['a-circle.png', 'b-square.png', 'c-hstripes.png', 'd-circle.png'];

let serve: ServeProcess | null = null;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let library: string;
let toClassify: string;
let exportDir: string;
const errors: string[] = [];

const convnet = (...args: string[]): string =>
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });

async function openClassify(): Promise<void> {
  serve = await startServe(library);
  await page.goto(serve.url);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
}

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 20, 32, 1, CLASSES);
  library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  convnet('import', shapes, '--library', library, '--json');

  // The folder to classify: four fresh shapes, a truncated PNG and a text file that only pretends to be one.
  toClassify = path.join(t.dir, 'to-classify');
  fs.mkdirSync(toClassify);
  for (const [i, name] of GOOD.entries()) {
    const cls = name.slice(2, -4);
    await sharp(drawShape(cls, 32, 9_000 + i), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(toClassify, name));
  }
  const png = fs.readFileSync(path.join(toClassify, GOOD[0]!));
  fs.writeFileSync(path.join(toClassify, 'e-truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
  fs.writeFileSync(path.join(toClassify, 'f-notes.png'), 'these are my notes, not an image\n');
  exportDir = path.join(t.dir, 'exported-model');

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  recordPageErrors(page, errors);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe('Classify in browser mode', () => {
  it('with no trained run, says so and links to Train', async () => {
    await openClassify();
    const empty = page.getByTestId('classify-empty');
    await empty.waitFor();
    expect(await empty.textContent()).toContain('No trained model yet');
    await page.screenshot({ path: artifactPath('e2e', 'classify-empty.png') });
    await page.getByRole('button', { name: 'Go to Train' }).click();
    await page.getByTestId('train-form').waitFor();
    // Leave the page before the server goes, so no reconnect attempt logs an error.
    await page.goto('about:blank');
    await serve!.stop();
    serve = null;
  });

  it('lists the trained run with its dataset, architecture and best error', async () => {
    convnet('train', '--dataset', 'shapes', '--library', library, '--arch', 'alexnet-small', '--image-size', '32', '--epochs', '2', '--batch-size', '8', '--json');
    await openClassify();
    const picker = page.getByTestId('model-picker');
    await picker.waitFor();
    expect(await page.getByLabel('Model', { exact: true }).locator('option:checked').textContent()).toContain('Run 1 — shapes, alexnet-small');
    const facts = page.getByTestId('model-facts');
    expect(await facts.textContent()).toContain('shapes');
    expect(await facts.textContent()).toContain('alexnet-small');
    expect(await page.getByTestId('model-top1').textContent()).toMatch(/^\d+\.\d%$/);
    // The engine measures the cost of ten-crop shortly after a model is chosen.
    await expect.poll(async () => ((await page.getByTestId('ten-crop-cost').textContent()) ?? '').replace(/\s+/g, ' '), { timeout: 60_000 }).toMatch(/≈ [\d.]+ m?s per image instead of [\d.]+ m?s \(\w+, measured\)/);
    expect(await page.getByRole('checkbox', { name: 'Ten-crop averaging' }).isChecked()).toBe(false);
  });

  it('classifies a folder: top-5 bars for the good images, the bad ones listed with reasons', async () => {
    await page.getByLabel('Image or folder path on the server').fill(toClassify);
    await page.getByTestId('add-images').getByRole('button', { name: 'Classify', exact: true }).click();
    const progress = page.getByTestId('classify-progress');
    await progress.waitFor();
    await expect.poll(() => page.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 4 of 6');
    expect(await progress.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('6');
    expect(await page.getByTestId('classify-timing').textContent()).toMatch(/per image/);

    const cards = page.getByTestId('result-card');
    expect(await cards.count()).toBe(4);
    for (const [i, name] of GOOD.entries()) {
      const card = cards.nth(i);
      expect(await card.textContent()).toContain(name);
      // Three classes: the top-5 holds all three, probabilities summing to one.
      const bars = card.getByRole('meter');
      expect(await bars.count()).toBe(3);
      const values = await bars.evaluateAll((els) => els.map((el) => Number(el.getAttribute('aria-valuenow'))));
      expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      expect([...values].sort((a, b) => b - a)).toEqual(values);
    }

    const bad = page.getByTestId('bad-file');
    expect(await bad.count()).toBe(2);
    const badText = (await page.getByTestId('bad-files').textContent()) ?? '';
    expect(badText).toContain('2 files were not classified');
    expect(badText).toContain('e-truncated.png');
    expect(badText).toContain('f-notes.png');
    for (const row of await bad.all()) {
      expect(((await row.locator('.reason').textContent()) ?? '').length).toBeGreaterThan(3);
    }
    await page.setViewportSize({ width: 1280, height: 1300 });
    await page.screenshot({ path: artifactPath('e2e', 'classify-cards.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('sorts the table and filters low confidence', async () => {
    await page.getByRole('radio', { name: 'Table' }).click();
    const table = page.getByTestId('results-table');
    await table.waitFor();
    const names = () => table.locator('tbody td.file').allTextContents();
    await expect.poll(names).toEqual(GOOD);
    await table.getByRole('button', { name: /^File/ }).click();
    await table.getByRole('button', { name: /^File/ }).click();
    await expect.poll(names).toEqual([...GOOD].reverse());
    expect(await table.locator('th[aria-sort="descending"]').textContent()).toContain('File');

    await table.getByRole('button', { name: /^Confidence/ }).click();
    const confidences = async () => (await table.locator('tbody td.num').allTextContents()).map((t) => Number.parseFloat(t.replace('<', '')));
    const descending = (c: number[]): boolean => c.every((v, i) => i === 0 || c[i - 1]! >= v);
    await expect.poll(async () => descending(await confidences())).toBe(true);
    const sorted = await confidences();

    // The slider keeps rows whose top-1 confidence is at most its value.
    const lowest = Math.min(...sorted);
    const slider = page.getByTestId('confidence-filter');
    // The table re-renders after the slider's input event: poll what the user sees.
    const rows = () => table.getByTestId('result-row').count();
    await slider.fill('5');
    const kept = sorted.filter((c) => c <= 5).length;
    await expect.poll(rows).toBe(kept);
    await expect.poll(() => page.getByTestId('table-count').textContent()).toBe(`${kept} of 4 shown`);
    await slider.fill(String(Math.min(100, Math.ceil(lowest / 5) * 5)));
    await expect.poll(rows).toBeGreaterThanOrEqual(1);
    await slider.fill('100');
    await expect.poll(rows).toBe(4);
    await page.setViewportSize({ width: 1280, height: 1300 });
    await page.screenshot({ path: artifactPath('e2e', 'classify-table.png') });
  });

  it('saves the results as CSV through a download', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV', exact: true }).click()]);
    expect(download.suggestedFilename()).toBe('classification.csv');
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('path,top1,confidence,top5,error');
    expect(lines).toHaveLength(7);
    for (const name of GOOD) {
      const line = lines.find((l) => l.startsWith(path.join(toClassify, name)))!;
      const [, top1, confidence, top5] = line.split(',');
      expect(CLASSES).toContain(top1);
      expect(Number(confidence)).toBeGreaterThan(0);
      expect(top5!.split('|')).toHaveLength(3);
    }
    expect(lines.find((l) => l.includes('f-notes.png'))!.split(',')[4]!.length).toBeGreaterThan(3);
  });

  it('exports the run’s model and shows 100 % parity', async () => {
    const field = page.getByLabel('New or empty folder on the server');
    // The suggestion is in the user's documents (home without one), never inside the library.
    const documents = fs.existsSync(path.join(os.homedir(), 'Documents')) ? path.join(os.homedir(), 'Documents') : os.homedir();
    expect(await field.inputValue()).toBe(path.join(documents, 'shapes-run1-model'));
    await field.fill(exportDir);
    await page.getByRole('button', { name: 'Export model' }).click();
    const parity = page.getByTestId('export-parity');
    await parity.waitFor({ timeout: 180_000 });
    expect(await parity.getAttribute('data-verdict')).toBe('agree');
    expect(await page.getByTestId('parity-top1').textContent()).toBe('100%');
    expect(Number(await page.getByTestId('parity-images').textContent().then((t) => t!.split(' ')[0]))).toBeGreaterThan(0);
    expect(await page.getByTestId('export-dir').textContent()).toBe(exportDir);
    expect(fs.existsSync(path.join(exportDir, 'model.json'))).toBe(true);
    await page.setViewportSize({ width: 1280, height: 1700 });
    await page.screenshot({ path: artifactPath('e2e', 'classify-export.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: artifactPath('e2e', 'classify-export-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('classifies again with ten-crop averaging', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('checkbox', { name: 'Ten-crop averaging' }).check();
    await page.getByTestId('add-images').getByRole('button', { name: 'Classify', exact: true }).click();
    await expect.poll(() => page.getByTestId('classify-timing').count(), { timeout: 120_000 }).toBe(1);
    expect(await page.getByTestId('classify-timing').textContent()).toContain('ten-crop: 10 views each');
    expect(await page.getByTestId('classify-phase').textContent()).toBe('Classified 4 of 6');
  });

  it('imports the exported model and classifies with it', async () => {
    await page.getByRole('button', { name: 'Import model…' }).click();
    await page.getByLabel('Exported model folder on the server').fill(exportDir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByTestId('model-facts').textContent(), { timeout: 30_000 }).toContain('Classes3');
    expect(await page.getByLabel('Model', { exact: true }).locator('option:checked').textContent()).not.toMatch(/^Run /);
    expect(await page.getByLabel('Model', { exact: true }).locator('optgroup[label="Imported models"] option').count()).toBe(1);
    // Only runs can be exported; an imported model has nothing to export.
    expect(await page.getByTestId('export-model').count()).toBe(0);
    await page.getByRole('checkbox', { name: 'Ten-crop averaging' }).uncheck();
    await page.getByLabel('Image or folder path on the server').fill(path.join(toClassify, GOOD[1]!));
    await page.getByTestId('add-images').getByRole('button', { name: 'Classify', exact: true }).click();
    await expect.poll(() => page.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 1 of 1');
    // The layout chosen earlier (Table) stays; switch back to cards.
    expect(await page.getByTestId('result-row').count()).toBe(1);
    await page.getByRole('radio', { name: 'Cards' }).click();
    expect(await page.getByTestId('result-card').count()).toBe(1);
    await page.screenshot({ path: artifactPath('e2e', 'classify-imported-model.png') });
  });

  it('logged no errors in the page', () => {
    expect(errors).toEqual([]);
  });
});

/**
 * Desktop controls without an Electron binary (as in the Library's test): the page gets a stand-in for the preload
 * bridge (IPC replaced by the server's HTTP API and WebSocket, paths of dropped files answered by the test), so the
 * view takes its Electron code paths against the real engine — drop image files, see their blob: previews.
 */
describe('Classify with the desktop bridge', () => {
  it('classifies image files dropped on the view and previews them', async () => {
    const names = [GOOD[0]!, GOOD[2]!];
    const dropped = Object.fromEntries(names.map((n) => [n, path.join(toClassify, n)]));
    const bytes = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(toClassify, n)).toString('base64')]));
    const desk = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const deskErrors: string[] = [];
    desk.on('pageerror', (err) => deskErrors.push(err.message));
    desk.on('console', (msg) => msg.type() === 'error' && deskErrors.push(msg.text()));
    await installStandInBridge(desk, { token: serve!.token, dropped });
    await desk.goto(serve!.url);
    await desk.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
    await desk.getByTestId('classify-drop-zone').waitFor();
    expect(await desk.getByRole('button', { name: 'Choose images…' }).isVisible()).toBe(true);
    expect(await desk.getByLabel(/path on the server/).count()).toBe(0);

    const drop = async (types: string[]): Promise<void> =>
      desk.evaluate(
        ({ bytes, types }) => {
          const data = new DataTransfer();
          for (const [name, b64] of Object.entries(bytes)) {
            data.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: 'image/png' }));
          }
          for (const type of types) {
            document.querySelector('.classify')!.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
          }
        },
        { bytes, types },
      );
    await drop(['dragenter', 'dragover']);
    await desk.getByText('Drop images or folders to classify').waitFor();
    await drop(['drop']);
    await expect.poll(() => desk.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 2 of 2');
    const cards = desk.getByTestId('result-card');
    expect(await cards.count()).toBe(2);
    const previews = desk.locator('[data-testid="result-card"] img');
    expect(await previews.count()).toBe(2);
    expect(await previews.first().getAttribute('src')).toMatch(/^blob:/);
    await expect.poll(() => previews.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth === 32))).toBe(true);
    await desk.screenshot({ path: artifactPath('e2e', 'classify-desktop-drop.png') });
    expect(deskErrors).toEqual([]);
    await desk.close();
  });
});
