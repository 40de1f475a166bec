// Grad-CAM in the results image panel, in browser mode: a tiny run trained by the CLI, `convnet serve`,
// Chromium opens a confusion cell's image and turns the heat map on, picks another class and layer.
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
const cli = path.join(repoRoot, 'bin', 'convnet.js');

async function api<T>(method: string, input: unknown): Promise<T> {
  const res = await fetch(`${serve.origin}/api/${method}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${serve.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as { ok: boolean; result: T; error?: { message: string } };
  if (!body.ok) {
    throw new Error(`${method}: ${body.error?.message}`);
  }
  return body.result;
}

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const shapes = path.join(t.dir, 'shapes');
  await writeShapesDataset(shapes, 16, 48, 1, ['circle', 'square', 'hstripes']);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  const run = (args: string[]): string => execFileSync(process.execPath, [cli, ...args, '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe' }).toString();
  run(['import', shapes]);
  run(['train', '--dataset', 'shapes', '--epochs', '2', '--batch-size', '8']);
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  recordPageErrors(page, errors);
  await page.goto(serve.url);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe('Grad-CAM in the image panel', () => {
  it('shows the heat map of the picked image for its prediction, then for a chosen class and layer', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Runs', exact: true }).click();
    await page.getByTestId('run-row').first().click();
    await page.getByRole('tab', { name: 'Evaluation', exact: true }).click();
    await page.getByTestId('confusion').waitFor({ timeout: 30_000 });
    const cell = page.locator('[data-testid="confusion-cell"]:not([data-count="0"])').first();
    await cell.click();
    const first = page.getByTestId('cell-gallery').getByTestId('result-cell').first();
    const imageId = Number(await first.getAttribute('data-image-id'));
    await first.click();
    const panel = page.getByTestId('image-panel');
    await panel.waitFor();
    expect(await panel.getByTestId('gradcam-img').count()).toBe(0);

    await panel.getByLabel('Grad-CAM heat map').check();
    const img = panel.getByTestId('gradcam-img');
    await img.waitFor({ timeout: 60_000 });
    await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth)).toBe(48);
    const cam = await api<{ label: string; className: string; classProbability: number; layer: string }>('results.gradcam', { runId: 1, imageId });
    const stored = await api<{ prediction: { predictedClass: string } }>('results.image', { runId: 1, imageId });
    expect(cam.label).toBe(stored.prediction.predictedClass);
    await expect.poll(() => panel.getByTestId('gradcam-caption').textContent()).toBe(`What drove ${cam.className} (${(cam.classProbability * 100).toFixed(1)}%) at conv5`);
    await page.screenshot({ path: artifactPath('e2e', 'gradcam-panel.png') });

    const other = ['circle', 'square', 'hstripes'].find((c) => c !== cam.label)!;
    await panel.getByLabel('Grad-CAM class').selectOption(other);
    await expect.poll(() => panel.getByTestId('gradcam-caption').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`^What drove ${other} \\(\\d+\\.\\d%\\) at conv5$`));
    await panel.getByLabel('Grad-CAM layer').selectOption('conv2');
    await expect.poll(() => panel.getByTestId('gradcam-caption').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`^What drove ${other} \\(\\d+\\.\\d%\\) at conv2$`));
    await expect.poll(() => img.getAttribute('src')).toContain(`/media/gradcam/1/${imageId}/conv2-`);
    await page.screenshot({ path: artifactPath('e2e', 'gradcam-panel-conv2.png') });

    // The Neighbours view's picked image has the same heat map.
    await panel.getByRole('button', { name: 'Nearest neighbours' }).click();
    const query = page.getByTestId('neighbours-tab').getByTestId('gradcam');
    await query.getByLabel('Grad-CAM heat map').check();
    await expect.poll(() => query.getByTestId('gradcam-caption').textContent(), { timeout: 60_000 }).toBe(`What drove ${cam.className} (${(cam.classProbability * 100).toFixed(1)}%) at conv5`);
    await page.getByTestId('neighbour').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: artifactPath('e2e', 'gradcam-neighbours.png') });
    expect(errors).toEqual([]);
  });
});
