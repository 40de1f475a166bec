// The export dialog choosing ONNX, end to end in browser mode: a real `convnet serve` on a temp library with a
// tiny run trained by the CLI; Chromium switches the format to ONNX, exports, reads the ONNX Runtime parity and
// downloads the .onnx file, which ONNX Runtime in this process then runs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, recordPageErrors } from '../helpers/browser.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess | null = null;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let root: string;
const errors: string[] = [];

const convnet = (...args: string[]): string =>
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), ...args], { cwd: repoRoot, stdio: 'pipe', encoding: 'utf8' });

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  root = t.dir;
  const shapes = path.join(root, 'shapes');
  await writeShapesDataset(shapes, 16, 32, 1, ['circle', 'square', 'hstripes']);
  const library = path.join(root, 'library');
  fs.mkdirSync(library);
  convnet('import', shapes, '--library', library, '--json');
  convnet('train', '--dataset', 'shapes', '--library', library, '--arch', 'alexnet-small', '--image-size', '32', '--epochs', '1', '--batch-size', '8', '--json');
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1500 }, acceptDownloads: true });
  recordPageErrors(page, errors);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe('Export dialog, ONNX', () => {
  it('exports the run as an .onnx file, shows ONNX Runtime parity and downloads the file', async () => {
    await page.goto(serve!.url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Classify', exact: true }).click();
    const dialog = page.getByTestId('export-model');
    await dialog.waitFor();
    await dialog.getByRole('radio', { name: 'ONNX file (.onnx)' }).check();
    // The suggestion follows the format: a .onnx file in the user's documents.
    const field = page.getByLabel('New .onnx file on the server');
    const documents = fs.existsSync(path.join(os.homedir(), 'Documents')) ? path.join(os.homedir(), 'Documents') : os.homedir();
    expect(await field.inputValue()).toBe(path.join(documents, 'shapes-run1-model.onnx'));
    expect(await dialog.textContent()).toContain('ONNX Runtime on held-out images');

    const file = path.join(root, 'exported', 'shapes.onnx');
    await field.fill(path.join(root, 'no-such-folder', 'shapes.onnx'));
    await page.getByRole('button', { name: 'Export model' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 60_000 }).toMatch(/Export failed: The folder .*no-such-folder does not exist/);

    fs.mkdirSync(path.dirname(file));
    await field.fill(file);
    await page.getByRole('button', { name: 'Export model' }).click();
    const parity = page.getByTestId('export-parity');
    await parity.waitFor({ timeout: 180_000 });
    expect(await parity.getAttribute('data-verdict')).toBe('agree');
    expect(await page.getByTestId('parity-top1').textContent()).toBe('100%');
    expect(Number((await page.getByTestId('parity-images').textContent())!.split(' ')[0])).toBeGreaterThan(0);
    expect(await parity.textContent()).toContain('ONNX Runtime (CPU), the file read back from disk');
    expect(await page.getByTestId('export-dir').textContent()).toBe(file);
    expect(fs.existsSync(file)).toBe(true);
    await page.screenshot({ path: artifactPath('e2e', 'export-onnx.png') });

    const link = page.getByTestId('export-download');
    expect(await link.textContent()).toBe('Download (.onnx)');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('shapes.onnx');
    const bytes = fs.readFileSync((await download.path())!);
    expect(bytes.equals(fs.readFileSync(file))).toBe(true);
    const session = await ort.InferenceSession.create(bytes);
    expect([session.inputNames, session.outputNames]).toEqual([['input'], ['probabilities']]);
    await session.release();
    expect(errors).toEqual([]);
  });
});
