// The learning-rate finder in the Train view, in browser mode: a sweep on an imported dataset draws the loss
// curve with the suggested rate marked, "Use" puts it in the form, and the library gains no run.
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

async function api<T>(method: string, input: unknown = {}): Promise<T> {
  const res = await fetch(`${serve.origin}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${serve.token}` }, body: JSON.stringify(input) });
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
  await writeShapesDataset(shapes, 24, 32, 1, ['circle', 'square', 'hstripes']);
  const library = path.join(t.dir, 'library');
  fs.mkdirSync(library);
  execFileSync(process.execPath, [path.join(repoRoot, 'bin', 'convnet.js'), 'import', shapes, '--library', library, '--json'], { cwd: repoRoot, stdio: 'pipe' });
  serve = await startServe(library);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  recordPageErrors(page, errors);
  await page.goto(serve.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  cleanup?.();
});

describe('Learning-rate finder', () => {
  it('sweeps, marks the suggested rate on the curve, and puts it in the form with one click', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Train', exact: true }).click();
    await page.locator('#train-batch').fill('16');
    const finder = page.getByTestId('lr-finder');
    await finder.getByRole('button', { name: 'Find a learning rate' }).click();
    await finder.getByTestId('lr-progress').waitFor({ timeout: 30_000 });
    const curve = finder.getByTestId('lr-curve');
    await curve.waitFor({ timeout: 180_000 });
    const latest = await api<{ suggested: number | null; curve: Array<{ lr: number }> }>('lrFind.latest', { datasetId: 1 });
    expect(latest.curve.length).toBeGreaterThan(10);
    expect(await curve.getAttribute('data-points')).toBe(String(latest.curve.length));
    expect(latest.suggested).not.toBeNull();
    const shown = Number(latest.suggested!.toPrecision(3));
    const text = shown < 1e-3 ? shown.toExponential() : String(shown);
    expect(await finder.getByTestId('lr-suggested-text').textContent()).toBe(`Suggested ${text}`);
    await finder.getByTestId('lr-suggested').waitFor({ state: 'attached' });
    await finder.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('e2e', 'lr-finder.png') });
    await finder.getByRole('button', { name: `Use ${text}` }).click();
    expect(Number(await page.locator('#train-lr').inputValue())).toBeCloseTo(latest.suggested!, 10);
    // Its own record only: no run.
    expect(await api<unknown[]>('runs.list')).toEqual([]);
    expect(errors).toEqual([]);
  });
});
