// The Library's first-hour paper cuts, end to end in browser mode: the import banner's title, the card of a
// dataset still importing, the card's split legend and buttons in a narrow column, and the large view's
// position once its image has left the filter.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { makeTinyFolder } from '../helpers/library-folder.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { artifactPath, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let birds: string;
let many: string;
const errors: string[] = [];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  // Splits given by train/val/test folders: the longest legend ("· splits from the source").
  birds = path.join(t.dir, 'birds');
  await makeImageFolder(birds, { classes: { owl: { train: 1200, val: 150, test: 150 }, wren: { train: 1, val: 1, test: 1 } }, width: 8, height: 8 });
  many = path.join(t.dir, 'many');
  makeTinyFolder(many, ['left', 'right'], 4000);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(serve.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

/** Lines the text of an element takes on screen (1 when it does not wrap). */
const lines = (el: Locator): Promise<number> =>
  el.evaluate((node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
  });

describe('Library paper cuts', () => {
  it('the import banner names the dataset once', async () => {
    await page.getByLabel('Folder or CSV path on the server').fill(birds);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor({ timeout: 120_000 });
    const title = (await summary.locator('header .title').textContent())!.replace(/\s+/g, ' ').trim();
    expect(title).toBe('Imported birds');
  });

  it('a card in a narrow column shows its whole split legend and an unwrapped "Open gallery"', async () => {
    const card = page.getByTestId('dataset-card').filter({ hasText: 'birds' });
    const legend = card.getByTestId('dataset-splits').locator('p');
    await expect.poll(() => legend.textContent()).toContain('splits from the source');
    expect((await card.boundingBox())!.width).toBeLessThan(400);
    // Nothing of the legend is hidden: its content fits its box, and its box lies inside the card.
    expect(await legend.evaluate((e) => e.scrollWidth <= e.clientWidth)).toBe(true);
    const [box, inside] = [await legend.boundingBox(), await card.boundingBox()];
    expect(box!.x + box!.width).toBeLessThanOrEqual(inside!.x + inside!.width);
    expect(await lines(card.getByRole('button', { name: 'Open gallery' }))).toBe(1);
    await card.screenshot({ path: artifactPath('e2e', 'library-narrow-card.png') });
  });

  it('a dataset still importing says so on its card, not "No usable images yet"', async () => {
    await page.getByLabel('Folder or CSV path on the server').fill(many);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const card = page.getByTestId('dataset-card').filter({ hasText: 'many' });
    await card.waitFor({ timeout: 60_000 });
    const caption = card.locator('.balance .caption');
    await caption.waitFor();
    const seen = await caption.textContent();
    expect(seen).toContain('Importing');
    expect(seen).not.toContain('No usable images yet');
    await page.getByTestId('import-progress').getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('import-summary').filter({ hasText: 'Import cancelled' }).waitFor({ timeout: 60_000 });
  });

  it('the large view says its image left the filter instead of "1 of 0"', async () => {
    const card = page.getByTestId('dataset-card').filter({ hasText: 'birds' });
    await card.getByRole('button', { name: 'Open gallery' }).click();
    await page.getByTestId('gallery').waitFor();
    await page.getByLabel('Class', { exact: true }).selectOption({ label: 'wren (3)' });
    await expect.poll(() => page.getByTestId('thumb').count()).toBe(3);
    await page.getByLabel('Split', { exact: true }).selectOption('val');
    await expect.poll(() => page.getByTestId('thumb').count()).toBe(1);
    await page.getByTestId('thumb').first().locator('button.open').click();
    const viewer = page.getByTestId('image-viewer');
    await viewer.getByTestId('image-meta').waitFor();
    expect(await viewer.locator('.position').textContent()).toMatch(/^\s*1 of 1\s*$/);
    await viewer.getByLabel('Move to class').selectOption({ label: 'owl' });
    await expect.poll(() => viewer.getByTestId('image-class').textContent()).toBe('owl (was wren)');
    await expect.poll(() => viewer.locator('.position').textContent()).toMatch(/No longer matches the filter · no images do/);
    expect(await viewer.locator('.position').textContent()).not.toMatch(/of 0/);
    await page.screenshot({ path: artifactPath('e2e', 'library-viewer-left-filter.png') });
    expect(errors).toEqual([]);
  });
});
