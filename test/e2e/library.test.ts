// The Library in browser mode, end to end: a real `convnet serve` on a temp library, Debian's Chromium,
// and a folder of real images made with sharp (3 classes plus one corrupt file).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { installStandInBridge, launchChromium, recordPageErrors } from '../helpers/browser.js';
import { makePicturesFolder, makeTinyFolder } from '../helpers/library-folder.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { artifactPath, tempDir } from '../helpers/temp.js';

const CLASSES = { cat: '#f59e0b', dog: '#3b82f6', bird: '#10b981' } as const;
const PER_CLASS = 4;
/** Enough tiny files to keep an import running for several seconds (≈500 files/s here). */
const MANY = 4000;

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let imagesDir: string;
let manyDir: string;
const errors: string[] = [];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  imagesDir = path.join(t.dir, 'pets');
  await makePicturesFolder(imagesDir, CLASSES, PER_CLASS);
  manyDir = path.join(t.dir, 'many');
  makeTinyFolder(manyDir, ['left', 'right'], MANY);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  recordPageErrors(page, errors);
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

/** Cells of the gallery grid that hold an image (placeholders excluded). */
const thumbs = (): ReturnType<Page['getByTestId']> => page.getByTestId('thumb');

describe('Library in browser mode', () => {
  it('explains the folder layouts and offers a path field, not a drop zone it cannot honour', async () => {
    await page.getByTestId('library-empty').waitFor();
    const help = await page.getByTestId('layouts-help').textContent();
    expect(help).toContain('Class sub-folders');
    expect(help).toContain('Train / val / test');
    expect(help).toContain('path,label[,split]');
    expect(await page.getByLabel('Folder or CSV path on the server').isVisible()).toBe(true);
    expect(await page.getByTestId('drop-zone').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Choose folder…' }).count()).toBe(0);
    await page.screenshot({ path: artifactPath('e2e', 'library-empty.png') });
  });

  it('imports a folder through the path field and summarises it, skipped file and reason included', async () => {
    await page.getByLabel('Folder or CSV path on the server').fill(imagesDir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('import-progress').count()).toBe(0);
    const counts = await page.getByTestId('import-summary-counts').textContent();
    expect(counts).toContain(`${PER_CLASS * 3} images indexed in 3 classes`);
    expect(counts).toContain('1 file skipped');
    const skipped = page.getByTestId('skipped-list').locator('li');
    expect(await skipped.count()).toBe(1);
    expect(await skipped.locator('.path').textContent()).toContain('broken.jpg');
    expect((await skipped.locator('.reason').textContent())?.trim().length).toBeGreaterThan(3);
    await page.screenshot({ path: artifactPath('e2e', 'library-import-summary.png') });
  });

  it('lists the dataset with its counts, class balance and splits', async () => {
    const card = page.getByTestId('dataset-card');
    await card.waitFor();
    expect(await card.getByTestId('dataset-images').textContent()).toBe(String(PER_CLASS * 3));
    expect(await card.getByTestId('dataset-classes').textContent()).toBe('3');
    await card.getByRole('img', { name: /Images per class/ }).waitFor();
    const balance = await card.getByRole('img', { name: /Images per class/ }).getAttribute('aria-label');
    for (const name of Object.keys(CLASSES)) {
      expect(balance).toContain(`${name} ${PER_CLASS}`);
    }
    expect(await card.getByTestId('dataset-splits').textContent()).toMatch(/train \d+.*val \d+.*test \d+/s);
    await page.getByRole('button', { name: 'Dismiss import summary' }).click();
    await page.screenshot({ path: artifactPath('e2e', 'library-list.png') });
    // The dataset keeps its skipped files, with kind and reason, after the summary is gone.
    await card.getByRole('button', { name: '1 skipped at import' }).click();
    const list = page.getByTestId('dataset-skipped-list').locator('li');
    await list.first().waitFor();
    expect(await list.count()).toBe(1);
    expect(await list.first().textContent()).toContain('broken.jpg');
    expect(await list.first().locator('.kind').textContent()).toBe('corrupt');
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await expect.poll(() => page.getByTestId('dataset-skipped-list').count()).toBe(0);
  });

  it('opens the gallery and filters it by class', async () => {
    await page.getByTestId('dataset-card').getByRole('button', { name: 'Open gallery' }).click();
    await page.getByTestId('gallery').waitFor();
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS * 3);
    expect(await page.getByTestId('gallery-count').textContent()).toContain(`${PER_CLASS * 3} images shown`);
    await page.getByLabel('Class', { exact: true }).selectOption({ label: `cat (${PER_CLASS})` });
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS);
    for (const title of await thumbs().locator('button.open').evaluateAll((els) => els.map((e) => e.getAttribute('title')))) {
      expect(title).toContain('· cat ·');
    }
    // Every thumbnail really loaded from /media/thumb.
    await expect
      .poll(() => thumbs().locator('img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)))
      .toBe(true);
    await page.screenshot({ path: artifactPath('e2e', 'library-gallery.png') });
    // File-name search (debounced) narrows within the class filter.
    await page.getByLabel('Search file names').fill('cat_2');
    await expect.poll(() => thumbs().count()).toBe(1);
    await page.getByLabel('Search file names').fill('');
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS);
  });

  it('shows one image large with its metadata, moves with the arrows, relabels it', async () => {
    await thumbs().first().locator('button.open').click();
    const viewer = page.getByTestId('image-viewer');
    await viewer.waitFor();
    const meta = viewer.getByTestId('image-meta');
    await meta.waitFor();
    const text = (await meta.textContent()) ?? '';
    expect(text).toContain('cat');
    expect(text).toMatch(/\d+ × \d+/);
    expect(text).toMatch(/JPEG|PNG/);
    expect(text).toContain(imagesDir);
    await expect.poll(() => viewer.locator('img.full').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.screenshot({ path: artifactPath('e2e', 'library-large-view.png') });

    const first = await viewer.locator('h2').textContent();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => viewer.locator('h2').textContent()).not.toBe(first);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => viewer.locator('h2').textContent()).toBe(first);

    await viewer.getByLabel('Move to class').selectOption({ label: 'dog' });
    await expect.poll(() => viewer.getByTestId('image-class').textContent()).toBe('dog (was cat)');
    await page.keyboard.press('Escape');
    await expect.poll(() => viewer.count()).toBe(0);
    // The relabelled image leaves the "cat" filter.
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS - 1);
  });

  it('excludes an image, which then leaves the in-use filter and shows under Excluded', async () => {
    await page.getByLabel('Class', { exact: true }).selectOption({ label: 'All classes' });
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS * 3);
    await thumbs().nth(2).locator('button.open').click();
    const viewer = page.getByTestId('image-viewer');
    await viewer.getByTestId('image-meta').waitFor();
    const name = await viewer.locator('h2').textContent();
    await viewer.getByRole('button', { name: 'Exclude' }).click();
    await viewer.getByText('Excluded from training').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS * 3 - 1);
    await page.getByRole('radio', { name: /^Excluded/ }).click();
    await expect.poll(() => thumbs().count()).toBe(1);
    expect(await thumbs().first().locator('button.open').getAttribute('title')).toContain(name ?? '?');
    await page.getByRole('radio', { name: 'In use' }).click();
    await expect.poll(() => thumbs().count()).toBe(PER_CLASS * 3 - 1);
    expect(errors).toEqual([]);
  });

  it('moves a multi-selection to another split', async () => {
    await thumbs().nth(0).locator('button.open').click({ modifiers: ['Control'] });
    await thumbs().nth(1).locator('button.check').click();
    const bar = page.getByTestId('selection-bar');
    await bar.getByText('2 images selected').waitFor();
    await bar.getByLabel('Move to split').selectOption('test');
    await expect.poll(() => bar.count()).toBe(0);
    await page.getByLabel('Split', { exact: true }).selectOption('test');
    await expect.poll(() => thumbs().locator('button.open').evaluateAll((els) => els.filter((e) => e.getAttribute('title')?.endsWith('· test')).length)).toBeGreaterThanOrEqual(2);
    expect(await thumbs().count()).toBeGreaterThanOrEqual(2);
    await page.getByLabel('Split', { exact: true }).selectOption('');
  });

  it('shows a long import live, reattaches to it after a reload, and cancels it', async () => {
    await page.getByRole('button', { name: '← Datasets' }).click();
    await page.getByLabel('Folder or CSV path on the server').fill(manyDir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const progress = page.getByTestId('import-progress');
    await progress.waitFor();
    // The engine's first progress event can take a moment on a busy machine (worker start-up).
    await expect
      .poll(async () => Number((await page.getByTestId('import-seen').textContent())?.replace(/[^\d].*$/, '').trim() || 0), { timeout: 30_000 })
      .toBeGreaterThan(0);
    expect(await progress.getByRole('progressbar').count()).toBe(1);
    await page.screenshot({ path: artifactPath('e2e', 'library-import-progress.png') });

    await page.reload();
    await progress.waitFor();
    expect(await progress.textContent()).toContain('Importing many');
    await progress.getByRole('button', { name: 'Cancel' }).click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor({ timeout: 60_000 });
    expect(await summary.textContent()).toContain('Import cancelled');
    expect(await progress.count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('finishes the import when run again, and keeps the gallery of thousands light: only visible rows in the DOM', async () => {
    await page.getByLabel('Folder or CSV path on the server').fill(manyDir);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const done = page.getByTestId('import-summary').filter({ hasText: 'Imported many' });
    await done.waitFor({ timeout: 180_000 });
    await done.getByRole('button', { name: 'Open gallery' }).click();
    const grid = page.getByTestId('thumb-grid');
    await expect.poll(() => page.getByTestId('gallery-count').textContent()).toContain(`${(MANY * 2).toLocaleString('en-US')} images shown`);
    const cells = await thumbs().count();
    expect(cells).toBeGreaterThan(0);
    expect(cells).toBeLessThan(150);
    // The scroll area is as tall as all rows, and the last image can be reached.
    const { scrollHeight, clientHeight } = await grid.evaluate((el) => ({ scrollHeight: el.scrollHeight, clientHeight: el.clientHeight }));
    expect(scrollHeight).toBeGreaterThan(clientHeight * 20);
    await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await expect.poll(() => thumbs().last().locator('button.open').getAttribute('title'), { timeout: 15_000 }).toContain(`0${MANY - 1}.png`);
    expect(await thumbs().count()).toBeLessThan(150);
    await page.screenshot({ path: artifactPath('e2e', 'library-gallery-many.png') });
    expect(errors).toEqual([]);
  });

  it('renames, re-splits and deletes datasets, leaving source files alone', async () => {
    await page.getByRole('button', { name: '← Datasets' }).click();
    const pets = page.getByTestId('dataset-card').filter({ hasText: 'pets' });
    await pets.getByRole('button', { name: 'Rename' }).click();
    await page.getByLabel('Name', { exact: true }).fill('pets (renamed)');
    await page.getByRole('button', { name: 'Rename', exact: true }).last().click();
    await page.getByRole('button', { name: 'pets (renamed)' }).waitFor();

    await pets.getByRole('button', { name: 'Re-split' }).click();
    await page.getByLabel('Train %').fill('50');
    await page.getByLabel('Val %').fill('25');
    await page.getByRole('button', { name: 'Re-split', exact: true }).last().click();
    await expect.poll(() => pets.getByTestId('dataset-splits').textContent()).toMatch(/val [1-9]/);

    const many = page.getByTestId('dataset-card').filter({ hasText: 'many' });
    await many.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: /Delete/ });
    expect(await dialog.textContent()).toContain('source files are untouched');
    await page.screenshot({ path: artifactPath('e2e', 'library-delete-confirm.png') });
    await dialog.getByRole('button', { name: 'Delete dataset' }).click();
    await expect.poll(() => page.getByTestId('dataset-card').filter({ hasText: 'many' }).count()).toBe(0);
    expect(fs.existsSync(path.join(manyDir, 'left', '00000.png'))).toBe(true);
    expect(errors).toEqual([]);
  });
});

/**
 * Desktop controls, without an Electron binary here: the page gets a stand-in for the preload bridge
 * (IPC replaced by the server's HTTP API and WebSocket; paths for dropped files and the folder picker
 * answered by the test), so the renderer takes its Electron code paths against the real engine.
 */
describe('Library with the desktop bridge', () => {
  it('shows the drop zone and Choose folder…, and imports what is dropped or picked', async () => {
    const t = tempDir();
    const dropped = path.join(t.dir, 'birds');
    const picked = path.join(t.dir, 'fish');
    await makePicturesFolder(dropped, { owl: '#92400e', gull: '#64748b' }, 2, false);
    await makePicturesFolder(picked, { carp: '#ca8a04', pike: '#15803d' }, 2, false);
    const desk = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const deskErrors: string[] = [];
    desk.on('pageerror', (err) => deskErrors.push(err.message));
    await installStandInBridge(desk, { token: serve.token, dropped: { birds: dropped }, picked: [picked] });
    await desk.goto(serve.url);
    await desk.getByTestId('drop-zone').waitFor();
    expect(await desk.getByRole('button', { name: 'Choose folder…' }).isVisible()).toBe(true);
    expect(await desk.getByLabel(/path on the server/).count()).toBe(0);

    // A folder dragged from the file manager onto the Library.
    await desk.evaluate(() => {
      const target = document.querySelector('.library')!;
      const data = new DataTransfer();
      data.items.add(new File([], 'birds'));
      for (const type of ['dragenter', 'dragover']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    });
    await desk.getByText('Drop folders or images to import').waitFor();
    await desk.screenshot({ path: artifactPath('e2e', 'library-desktop-drop.png') });
    await desk.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File([], 'birds'));
      document.querySelector('.library')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await expect.poll(() => desk.getByTestId('import-summary').filter({ hasText: 'Imported birds' }).count(), { timeout: 60_000 }).toBe(1);

    await desk.getByRole('button', { name: 'Choose folder…' }).click();
    await expect.poll(() => desk.getByTestId('import-summary').filter({ hasText: 'Imported fish' }).count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => desk.getByTestId('dataset-card').filter({ hasText: 'fish' }).getByTestId('dataset-images').textContent()).toBe('4');
    expect(deskErrors).toEqual([]);
    await desk.close();
    t.cleanup();
  });
});
