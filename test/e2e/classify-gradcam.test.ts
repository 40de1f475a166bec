// "Why?" on Classify results in browser mode: a tiny run trained by the CLI, `convnet serve`, Chromium classifies a
// folder typed as a path, opens a result card's Grad-CAM heat map (the class it explains and its probability, as the
// job classified it), picks another of its top-5 classes and a layer, opens a table row's heat map, and reads why
// a file that has gone since cannot be explained.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { callServe, startServe, type ServeProcess } from '../helpers/serve.js';
import { drawShape, writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

const CLASSES = ['circle', 'square', 'hstripes'];
const FILES = ['a-circle.png', 'b-square.png', 'c-hstripes.png'];

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let toClassify: string;
const errors: string[] = [];

const percent = (p: number): string => `${(p * 100).toFixed(1)}%`;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 16, 48, 1, CLASSES);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  const convnet = (...args: string[]): string => execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args, '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });
  convnet('import', shapes);
  convnet('train', '--dataset', 'shapes', '--arch', 'alexnet-small', '--image-size', '48', '--epochs', '10', '--batch-size', '8');
  // Larger than the network's input, so the overlay shows at the image's own size over the whole picture.
  toClassify = path.join(t.dir, 'to-classify');
  fs.mkdirSync(toClassify);
  for (const [i, name] of FILES.entries()) {
    await sharp(drawShape(name.slice(2, -4), 128, 7_000 + i), { raw: { width: 128, height: 128, channels: 3 } }).png().toFile(path.join(toClassify, name));
  }
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  recordPageErrors(page, errors);
  await page.goto(serve.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe('Grad-CAM on Classify results', () => {
  it('shows a result card’s heat map for its top-1 class, then for another of its classes and a layer', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
    await page.getByTestId('model-picker').waitFor();
    await page.getByLabel('Image or folder path on the server').fill(toClassify);
    await page.getByTestId('add-images').getByRole('button', { name: 'Classify', exact: true }).click();
    await expect.poll(() => page.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 3 of 3');

    const card = page.getByTestId('result-card').nth(1);
    expect(await card.textContent()).toContain(FILES[1]);
    const jobId = (await card.getByTestId('result-image').getAttribute('src'))!.split('/')[3]!;
    const job = await callServe<{ results: Array<{ path: string; predictions: Array<{ label: string; probability: number }> }> }>(serve, 'classify.job', { jobId });
    const [top1, , third] = job.results[1]!.predictions;
    expect(await card.getByTestId('gradcam').count()).toBe(0);

    const why = card.getByRole('button', { name: 'Why?' });
    await why.click();
    expect(await why.getAttribute('aria-pressed')).toBe('true');
    const img = card.getByTestId('gradcam-img');
    await img.waitFor({ timeout: 60_000 });
    // The overlay is the picture at its own size (128 px), not the network's 48 px input.
    await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth)).toBe(128);
    expect(await img.getAttribute('src')).toMatch(new RegExp(`^/media/classified/${jobId}/1/gradcam/[0-9a-f]{16}\\.png`));
    const caption = card.getByTestId('gradcam-caption');
    await expect.poll(() => caption.textContent()).toBe(`What drove ${top1!.label} (${percent(top1!.probability)}) at conv5`);
    expect(await img.getAttribute('alt')).toBe(`Grad-CAM of ${FILES[1]} for ${top1!.label}`);
    // The class picker offers the result's top-5 (here all three classes), the top-1 chosen.
    const classes = card.getByLabel('Grad-CAM class');
    expect(await classes.locator('option').allTextContents()).toEqual(job.results[1]!.predictions.map((p) => p.label));
    expect(await classes.inputValue()).toBe(top1!.label);
    await card.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('e2e', 'classify-gradcam-card.png') });

    const firstSrc = await img.getAttribute('src');
    const firstPixels = await img.screenshot();
    await classes.selectOption(third!.label);
    await expect.poll(() => caption.textContent(), { timeout: 60_000 }).toBe(`What drove ${third!.label} (${percent(third!.probability)}) at conv5`);
    await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth)).toBe(128);
    expect(await img.getAttribute('src')).not.toBe(firstSrc);
    expect(Buffer.compare(await img.screenshot(), firstPixels)).not.toBe(0);
    await page.screenshot({ path: artifactPath('e2e', 'classify-gradcam-other-class.png') });

    await card.getByLabel('Grad-CAM layer').selectOption('conv2');
    await expect.poll(() => caption.textContent(), { timeout: 60_000 }).toBe(`What drove ${third!.label} (${percent(third!.probability)}) at conv2`);

    // Why? again hides it; the card is back to its image and bars.
    await why.click();
    expect(await card.getByTestId('gradcam').count()).toBe(0);
    expect(await card.getByRole('meter').count()).toBe(3);
  });

  it('opens a table row’s heat map under it', async () => {
    await page.getByRole('radio', { name: 'Table' }).click();
    const table = page.getByTestId('results-table');
    const row = table.getByTestId('result-row').nth(2);
    await row.getByRole('button', { name: 'Why?' }).click();
    const open = table.getByTestId('result-why');
    expect(await open.count()).toBe(1);
    const caption = open.getByTestId('gradcam-caption');
    await expect.poll(() => caption.textContent(), { timeout: 60_000 }).toMatch(new RegExp(`^What drove (${CLASSES.join('|')}) \\(\\d+\\.\\d%\\) at conv5$`));
    const top1 = await row.locator('td.top1').textContent();
    expect(await caption.textContent()).toContain(`What drove ${top1} (`);
    await page.screenshot({ path: artifactPath('e2e', 'classify-gradcam-table.png') });
  });

  it('says why when a classified file has gone since, instead of a broken picture', async () => {
    await page.getByRole('radio', { name: 'Cards' }).click();
    const gone = path.join(toClassify, FILES[0]!);
    fs.rmSync(gone);
    const card = page.getByTestId('result-card').first();
    await card.getByRole('button', { name: 'Why?' }).click();
    const alert = card.getByRole('alert');
    await expect.poll(() => alert.textContent(), { timeout: 60_000 }).toBe(`${gone} is gone: it was moved or deleted after it was classified.`);
    expect(await card.getByTestId('gradcam-img').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
