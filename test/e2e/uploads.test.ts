// Browser mode used from another computer, end to end: a real `convnet serve` (upload limit 1 MiB) on a library
// with a tiny trained run; Chromium uploads images through the file picker and by a drop and sees result cards
// with the pictures, downloads the exported model as a zip, and imports a dataset from an uploaded .zip and from
// an uploaded folder, then opens its gallery.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { drawShape, writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

const CLASSES = ['circle', 'square', 'hstripes'];
const GOOD = ['a-circle.png', 'b-square.png', 'c-hstripes.png', 'd-circle.png'];

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let root: string;
let library: string;
let toClassify: string;
const errors: string[] = [];

const convnet = (...args: string[]): string =>
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });

/** Every <img> in `images` has loaded a real picture (naturalWidth > 0). */
const allLoaded = (images: Locator): Promise<boolean> =>
  images.evaluateAll((els) => els.length > 0 && els.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  root = t.dir;
  const shapes = path.join(root, 'shapes');
  await writeShapesDataset(shapes, 20, 32, 1, CLASSES);
  library = path.join(root, 'library');
  fs.mkdirSync(library);
  convnet('import', shapes, '--library', library, '--json');
  convnet('train', '--dataset', 'shapes', '--library', library, '--arch', 'alexnet-small', '--image-size', '32', '--epochs', '2', '--batch-size', '8', '--json');

  toClassify = path.join(root, 'on-the-laptop');
  fs.mkdirSync(toClassify);
  for (const [i, name] of GOOD.entries()) {
    await sharp(drawShape(name.slice(2, -4), 32, 9_000 + i), { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(path.join(toClassify, name));
  }
  fs.writeFileSync(path.join(toClassify, 'f-notes.png'), 'these are my notes, not an image\n');

  serve = await startServe(library, ['--upload-limit', '1']);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 }, acceptDownloads: true });
  page.on('console', (msg) => {
    // A refused upload is an HTTP error the console reports (400, 415); the page shows it to the user.
    if (msg.type() === 'error' && !/status of (400|415)/.test(msg.text())) {
      errors.push(msg.text());
    }
  });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe('Classify by upload', () => {
  it('uploads images chosen in the file picker, refuses the non-image, and shows result cards with the pictures', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
    await page.getByTestId('classify-upload-zone').waitFor();
    await page.getByLabel('Upload images').setInputFiles([...GOOD.slice(0, 3), 'f-notes.png'].map((n) => path.join(toClassify, n)));
    await expect.poll(() => page.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 3 of 3');
    const refused = page.getByTestId('upload-refused');
    expect(await refused.textContent()).toContain('1 file was not uploaded');
    expect(await refused.textContent()).toContain('f-notes.png is not an image');

    const cards = page.getByTestId('result-card');
    expect(await cards.count()).toBe(3);
    for (const [i, name] of GOOD.slice(0, 3).entries()) {
      expect(await cards.nth(i).textContent()).toContain(name);
      expect(await cards.nth(i).getByRole('meter').count()).toBe(3);
    }
    const images = page.getByTestId('result-image');
    expect(await images.count()).toBe(3);
    expect(await images.first().getAttribute('src')).toMatch(/^\/media\/classified\/[0-9a-f-]{36}\/0$/);
    await expect.poll(() => allLoaded(images), { timeout: 30_000 }).toBe(true);
    expect(await images.evaluateAll((els) => els.map((i) => (i as HTMLImageElement).naturalWidth))).toEqual([32, 32, 32]);
    await page.screenshot({ path: artifactPath('e2e', 'uploads-classify-picker.png') });
  });

  it('uploads files dropped on the view and classifies them', async () => {
    const names = [GOOD[3]!, GOOD[1]!];
    const bytes = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(toClassify, n)).toString('base64')]));
    const drop = (types: string[]): Promise<void> =>
      page.evaluate(
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
    await page.getByText('Drop images or folders to upload and classify').waitFor();
    await drop(['drop']);
    await expect.poll(() => page.getByTestId('classify-phase').textContent(), { timeout: 120_000 }).toBe('Classified 2 of 2');
    const cards = page.getByTestId('result-card');
    expect(await cards.count()).toBe(2);
    expect(await cards.nth(0).textContent()).toContain(names[0]);
    await expect.poll(() => allLoaded(page.getByTestId('result-image')), { timeout: 30_000 }).toBe(true);
  });

  it('downloads the exported model as a zip of its folder', async () => {
    const exportDir = path.join(root, 'exports', 'shapes-model');
    await page.getByLabel('New or empty folder on the server').fill(exportDir);
    await page.getByRole('button', { name: 'Export model' }).click();
    await page.getByTestId('export-parity').waitFor({ timeout: 180_000 });
    const link = page.getByTestId('export-download');
    expect(await link.textContent()).toBe('Download (.zip)');
    await link.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('e2e', 'uploads-export-download.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('shapes-model.zip');
    const files = unzipSync(new Uint8Array(fs.readFileSync((await download.path())!)));
    const inFolder = (fs.readdirSync(exportDir, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(exportDir, p)).isFile());
    expect(Object.keys(files).sort()).toEqual(inFolder.map((p) => `shapes-model/${p.split(path.sep).join('/')}`).sort());
    expect(Buffer.from(files['shapes-model/model.json']!).equals(fs.readFileSync(path.join(exportDir, 'model.json')))).toBe(true);
  });
});

describe('Import by upload', () => {
  const openLibrary = async (): Promise<void> => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Library', exact: true }).click();
    await page.getByTestId('import-upload-zone').waitFor();
  };

  it('imports a .zip of class folders and shows the new dataset’s gallery', async () => {
    const zipSource = path.join(root, 'pond');
    await writeShapesDataset(zipSource, 5, 32, 7, ['circle', 'square']);
    const entries: Zippable = {};
    for (const cls of ['circle', 'square']) {
      for (const name of fs.readdirSync(path.join(zipSource, cls))) {
        entries[`pond/${cls}/${name}`] = fs.readFileSync(path.join(zipSource, cls, name));
      }
    }
    const zipFile = path.join(root, 'pond.zip');
    fs.writeFileSync(zipFile, zipSync(entries));

    await openLibrary();
    // A zip whose entry climbs out of its folder, dropped on the Library: refused with the reason, nothing imported.
    const slip = Buffer.from(zipSync({ 'pond/circle/a.png': entries['pond/circle/circle-0000.png'] as Uint8Array, '../../evil.png': new Uint8Array([1]) })).toString('base64');
    await page.evaluate((b64) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'evil.zip', { type: 'application/zip' }));
      for (const type of ['dragenter', 'dragover', 'drop']) {
        document.querySelector('.library')!.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    }, slip);
    await expect.poll(() => page.getByTestId('upload-error').textContent(), { timeout: 30_000 }).toBe(
      'Upload failed: The archive entry "../../evil.png" climbs out of its folder with ".." (path traversal); nothing was unpacked.',
    );
    await page.screenshot({ path: artifactPath('e2e', 'uploads-import-zip-refused.png') });
    expect(fs.existsSync(path.join(library, 'evil.png')) || fs.existsSync(path.join(root, 'evil.png'))).toBe(false);

    await page.getByLabel('Upload a zip to import').setInputFiles(zipFile);
    const summary = page.getByTestId('import-summary').filter({ hasText: 'pond' });
    await summary.waitFor({ timeout: 60_000 });
    await page.screenshot({ path: artifactPath('e2e', 'uploads-import-zip.png') });
    await summary.getByRole('button', { name: 'Open gallery' }).click();
    await page.getByTestId('gallery').waitFor();
    await expect.poll(() => page.getByTestId('gallery-count').textContent(), { timeout: 30_000 }).toContain('10 images shown');
    await expect.poll(() => allLoaded(page.getByTestId('thumb').locator('img')), { timeout: 30_000 }).toBe(true);
    await page.screenshot({ path: artifactPath('e2e', 'uploads-import-zip-gallery.png') });
    await page.getByRole('button', { name: '← Datasets' }).click();
  });

  it('imports a folder chosen in the folder picker', async () => {
    const folder = path.join(root, 'meadow');
    await writeShapesDataset(folder, 3, 32, 11, ['circle', 'hstripes']);
    await page.getByLabel('Upload a folder to import').setInputFiles(folder);
    const summary = page.getByTestId('import-summary').filter({ hasText: 'meadow' });
    await summary.waitFor({ timeout: 60_000 });
    const card = page.getByTestId('dataset-card').filter({ hasText: 'meadow' });
    await expect.poll(() => card.getByTestId('dataset-images').textContent()).toBe('6');
    expect(await card.getByTestId('dataset-classes').textContent()).toBe('2');
    // Everything uploaded lives in batch folders inside the library's uploads/ folder; the refused zip's batch is empty.
    const batches = fs.readdirSync(path.join(library, 'uploads'));
    expect(batches.every((b) => /^\d{8}-\d{6}-[0-9a-f]{8}$/.test(b))).toBe(true);
    expect(batches.map((b) => fs.readdirSync(path.join(library, 'uploads', b)).length).filter((n) => n > 0)).toHaveLength(4);
    await page.screenshot({ path: artifactPath('e2e', 'uploads-import-folder.png'), fullPage: true });
    // Across all of the above, the page logged no error (beyond the refused upload's HTTP status).
    expect(errors).toEqual([]);
  });
});
