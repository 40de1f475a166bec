// The Train form's first-hour paper cuts, end to end in browser mode: which dataset it offers after an import,
// what it remembers over a reload, the estimate before Start, the question before a run on one-image classes,
// Runs' "New run", and the time limit's unit from the form to the run's config table.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { makeImageFolder } from '../helpers/image-folder.js';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { writeShapesDataset } from '../helpers/shapes-dataset.js';
import { artifactPath, repoRoot, tempDir } from '../helpers/temp.js';

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let cleanup: () => void;
let animals: string;
const errors: string[] = [];

async function api(method: string, input: unknown = {}): Promise<unknown> {
  const res = await fetch(`${serve.origin}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${serve.token}` }, body: JSON.stringify(input) });
  return ((await res.json()) as { result: unknown }).result;
}

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 10, 32, 1, ['circle', 'square']);
  animals = path.join(t.dir, 'animals');
  await makeImageFolder(animals, { classes: { cat: 12, dog: 12, fox: 1 } });
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', shapes, '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe' });
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
const chosenDataset = () => page.getByLabel('Dataset').locator('option:checked').textContent();

describe('the Train form', () => {
  it('offers the dataset just imported, not the first one', async () => {
    await nav('Train').click();
    await page.getByTestId('train-form').waitFor();
    expect(await chosenDataset()).toContain('shapes');
    await nav('Library').click();
    await api('datasets.import', { paths: [animals], name: 'animals' });
    await expect.poll(async () => ((await api('datasets.list')) as Array<{ name: string; state: string }>).find((d) => d.name === 'animals')?.state, { timeout: 60_000 }).toBe('ready');
    await nav('Train').click();
    await expect.poll(chosenDataset, { timeout: 15_000 }).toContain('animals — 25 images, 3 classes');
  });

  it('keeps its settings over a reload', async () => {
    await page.getByLabel('Epochs', { exact: true }).fill('3');
    await page.getByLabel('Batch size').fill('16');
    await page.getByLabel('Time limit (minutes)').fill('5');
    await page.reload();
    await nav('Train').click();
    await page.getByTestId('train-form').waitFor();
    expect(await page.getByLabel('Epochs', { exact: true }).inputValue()).toBe('3');
    expect(await page.getByLabel('Batch size').inputValue()).toBe('16');
    expect(await page.getByLabel('Time limit (minutes)').inputValue()).toBe('5');
    expect(await chosenDataset()).toContain('animals');
    expect(await page.getByTestId('train-changes').textContent()).toContain('Time limit 5 min');
  });

  it('estimates the run\'s time from a measured step before Start', async () => {
    const estimate = page.getByTestId('train-estimate');
    await expect.poll(() => estimate.textContent(), { timeout: 120_000 }).toMatch(/Estimated time: about \d/);
    expect((await estimate.textContent())!.replace(/\s+/g, ' ')).toMatch(/an estimate: 3 epochs of \d+ training and \d+ validation images at [\d.]+ images\/s, measured on (wasm|tensorflow|cpu)/);
    await page.getByLabel('Epochs', { exact: true }).fill('300');
    await expect.poll(() => estimate.textContent()).toMatch(/300 epochs/);
    await page.getByLabel('Epochs', { exact: true }).fill('3');
    await page.screenshot({ path: artifactPath('e2e', 'train-estimate.png') });
  });

  it('asks before training on a class with one image, naming it', async () => {
    await page.getByRole('button', { name: 'Start training' }).click();
    const dialog = page.getByRole('dialog', { name: 'A class has only one image' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('In “animals”, “fox” has a single image.');
    await page.screenshot({ path: artifactPath('e2e', 'train-one-image-class.png') });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await api('runs.list')).toEqual([]);
    await page.getByRole('button', { name: 'Start training' }).click();
    await dialog.getByRole('button', { name: 'Start anyway' }).click();
    await page.getByTestId('train-finished').waitFor({ timeout: 120_000 });
  });

  it('the run\'s config table shows the time limit in minutes, with its unit', async () => {
    await nav('Runs').click();
    const row = page.getByTestId('run-row').first();
    await row.waitFor();
    await row.click();
    const limit = page.getByTestId('run-config').locator('tr', { hasText: 'Time limit' });
    expect(await limit.textContent()).toMatch(/Time limit\s*5 min/);
  });

  it('Runs\' "New run" opens the form, not the card of the run that just finished', async () => {
    await nav('Runs').click();
    await page.getByRole('button', { name: 'New run' }).click();
    await page.getByTestId('train-form').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('train-finished').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
