// The run page's results tabs in browser mode, end to end: a tiny run (3 shape classes, 2 epochs) trained by the
// CLI before `convnet serve` starts, then Chromium opens it: curves, Evaluation (a confusion cell's gallery equals
// results.cell over HTTP), Mistakes (relabel one image; images.get and the Library gallery show it), Neighbours,
// Filters, Compare, and the runs table's tags, sort and overlaid curves. Screenshots of every tab, light and dark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServe, type ServeProcess } from '../helpers/serve.js';
import { openShapesStudio, type ShapesStudio } from '../helpers/shapes-studio.js';
import { artifactPath, tempDir } from '../helpers/temp.js';

let setup: ShapesStudio;
let page: Page;
let browser: Browser;
let errors: string[];
const api = <T>(method: string, input: unknown = {}): Promise<T> => setup.api<T>(method, input);

interface Img {
  id: number;
  fileName: string;
  predictedClass: string;
  className: string | null;
}

beforeAll(async () => {
  setup = await openShapesStudio({
    perClass: 30,
    size: 32,
    classes: ['circle', 'square', 'hstripes'],
    // Two tiny runs: the first is the one opened, the second is what it is compared with.
    trains: [
      ['--epochs', '2', '--batch-size', '8'],
      ['--epochs', '2', '--batch-size', '16'],
    ],
    viewport: { width: 1280, height: 900 },
  });
  ({ page, errors, browser } = setup);
}, 240_000);

afterAll(async () => {
  await setup?.close();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
const tab = (name: string) => page.getByRole('tab', { name, exact: true });

/** Screenshot of the current tab, light and dark, with the tabs at the top of the view. */
async function shoot(name: string): Promise<void> {
  await page.evaluate(() => document.querySelector('[role="tablist"]')?.scrollIntoView());
  await page.screenshot({ path: artifactPath('e2e', `results-${name}.png`) });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(150);
  await page.screenshot({ path: artifactPath('e2e', `results-${name}-dark.png`) });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('Run results in browser mode', () => {
  it('opens the run with its curves, tags it, and overlays two runs', async () => {
    await nav('Runs').click();
    await page.getByTestId('run-row').first().waitFor();
    expect(await page.getByTestId('run-row').count()).toBe(2);
    // Sort by run id ascending: run 1 first.
    await page.getByTestId('runs-table').getByRole('button', { name: /^Run/ }).click();
    await expect.poll(() => page.getByTestId('run-row').first().getAttribute('data-run-id')).toBe('1');

    await page.getByLabel('Compare run 1').check();
    await page.getByLabel('Compare run 2').check();
    // Per run: two validation points and the test error after training.
    await expect.poll(() => page.getByTestId('compare-top1').getAttribute('data-points')).toBe('6');
    await page.screenshot({ path: artifactPath('e2e', 'results-runs-table.png') });

    await page.locator('[data-testid="run-row"][data-run-id="1"]').click();
    await page.getByTestId('run-detail').waitFor();
    expect(Number(await page.getByTestId('loss-chart').getAttribute('data-points'))).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('error-chart').getAttribute('data-points')).toBe('4');

    await page.getByRole('button', { name: 'Add tags or a note' }).click();
    await page.getByLabel('Tags of run 1').fill('baseline, tiny');
    await page.getByLabel('Note of run 1').fill('batch 8');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect.poll(() => page.locator('[data-run-id="1"] .tag').allTextContents()).toEqual(['baseline', 'tiny']);
    const saved = await api<{ tags: string[]; note: string }>('runs.get', { id: 1 });
    expect(saved.tags).toEqual(['baseline', 'tiny']);
    expect(saved.note).toBe('batch 8');
    // The text filter finds runs by tag.
    await page.getByLabel('Search runs').fill('baseline');
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(1);
    await page.getByLabel('Search runs').fill('');
    await shoot('overview');
  });

  it('Evaluation: a confusion cell opens exactly its images, most confident first', async () => {
    await tab('Evaluation').click();
    await page.getByTestId('confusion').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('per-class').locator('tbody tr').count()).toBe(3);
    const cells = page.getByTestId('confusion-cell');
    expect(await cells.count()).toBe(9);
    // The fullest off-diagonal cell when there is one (a real confusion), else the fullest cell.
    const all = await cells.evaluateAll((els) => els.map((e) => ({ t: Number(e.dataset.true), p: Number(e.dataset.predicted), n: Number(e.dataset.count) })));
    const off = all.filter((c) => c.t !== c.p && c.n > 0).sort((a, b) => b.n - a.n);
    const pick = off[0] ?? [...all].sort((a, b) => b.n - a.n)[0]!;
    await page.locator(`[data-testid="confusion-cell"][data-true="${pick.t}"][data-predicted="${pick.p}"]`).click();

    const gallery = page.getByTestId('cell-gallery');
    await expect.poll(() => gallery.getAttribute('data-total')).toBe(String(pick.n));
    await expect.poll(() => gallery.getByTestId('result-cell').count()).toBe(pick.n);
    const shown = await gallery.getByTestId('result-cell').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-image-id'))));
    const truth = await api<{ total: number; items: Img[] }>('results.cell', { runId: 1, split: 'val', trueLabel: pick.t, predictedLabel: pick.p });
    expect(truth.total).toBe(pick.n);
    expect(shown).toEqual(truth.items.map((i) => i.id));

    await gallery.getByTestId('result-cell').first().click();
    await page.getByTestId('image-panel').waitFor();
    expect(await page.getByTestId('image-panel').getByTestId('top5').locator('li').count()).toBe(3);
    await shoot('evaluation');

    // A class in the per-class table opens that class's mistakes.
    await page.getByTestId('per-class').getByRole('button', { name: 'square', exact: true }).click();
    await page.getByTestId('mistakes-of').waitFor();
    const ofSquare = await api<{ total: number }>('results.mistakes', { runId: 1, split: 'val', trueLabel: 2 });
    await expect.poll(() => page.getByTestId('mistakes-gallery').getAttribute('data-total')).toBe(String(ofSquare.total));
    await page.getByRole('button', { name: 'Show every class' }).click();
    await expect.poll(() => page.getByTestId('mistakes-of').count()).toBe(0);
  });

  it('Mistakes: relabels an image as its prediction, in the gallery, over HTTP and in the Library', async () => {
    await tab('Mistakes').click();
    const mistakes = await api<{ total: number; items: Img[] }>('results.mistakes', { runId: 1, split: 'val' });
    expect(mistakes.total, 'a 2-epoch run makes mistakes on val').toBeGreaterThan(0);
    const card = page.getByTestId('mistake').first();
    await card.waitFor();
    const first = mistakes.items[0]!;
    expect(await card.getAttribute('data-image-id')).toBe(String(first.id));
    expect(await card.getByTestId('top5').locator('li').count()).toBe(3);
    await shoot('mistakes');

    await card.getByRole('button', { name: `Relabel → ${first.predictedClass}` }).click();
    await expect.poll(() => card.getByTestId('mistake-state').textContent()).toBe(`Now ${first.predictedClass}`);
    expect(await page.getByTestId('edit-note').textContent()).toContain(`Relabelled ${first.fileName} as ${first.predictedClass}`);
    const image = await api<{ className: string }>('images.get', { id: first.id });
    expect(image.className).toBe(first.predictedClass);
    await page.screenshot({ path: artifactPath('e2e', 'results-mistakes-relabelled.png') });

    // Neighbours of that image: training images with distances.
    await card.getByRole('button', { name: 'More…' }).click();
    await page.getByTestId('image-panel').getByRole('button', { name: 'Nearest neighbours' }).click();
    await page.getByTestId('neighbour').first().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('neighbour').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('neighbour').first().textContent()).toMatch(/d = \d+\.\d{3}/);
    await shoot('neighbours');

    await tab('Filters').click();
    await page.getByTestId('filters-img').waitFor({ timeout: 30_000 });
    await page.getByTestId('activations-img').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.getByTestId('filters-img').evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)).toBe(true);
    await shoot('filters');

    await tab('Compare').click();
    await page.getByLabel('Other run').waitFor();
    await expect.poll(() => page.getByTestId('compare-gallery').getAttribute('data-total'), { timeout: 30_000 }).toMatch(/^\d+$/);
    await shoot('compare');

    // The Library's gallery shows the new class.
    await nav('Library').click();
    await page.getByTestId('dataset-card').getByRole('button', { name: 'Open gallery' }).click();
    await page.getByTestId('gallery').waitFor();
    await page.getByLabel('Search file names').fill(first.fileName);
    const thumb = page.getByTestId('thumb');
    await expect.poll(() => thumb.count()).toBe(1);
    expect(await thumb.locator('button.open').getAttribute('title')).toContain(`· ${first.predictedClass} ·`);
    expect(errors).toEqual([]);
  });

  it('deletes a run after a confirm that says what is removed', async () => {
    await nav('Runs').click();
    await page.locator('[data-testid="run-row"][data-run-id="2"]').click();
    await page.getByTestId('run-detail').getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByTestId('delete-run-dialog');
    await dialog.waitFor();
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('checkpoint');
    expect(text).toContain('predictions and fc7 features');
    expect(text).toContain('are not touched');
    await page.screenshot({ path: artifactPath('e2e', 'results-delete-run.png') });
    await page.getByRole('button', { name: 'Delete run', exact: true }).click();
    await expect.poll(() => page.locator('[data-testid="run-row"][data-run-id="2"]').count()).toBe(0);
    expect((await api<{ id: number }[]>('runs.list', {})).map((r) => r.id)).toEqual([1]);
    expect(errors).toEqual([]);
  });
});

describe('Run results at scale', () => {
  let big: ServeProcess;
  let bigPage: Page;
  let done: () => void;

  beforeAll(async () => {
    const { openStudio } = await import('../../src/studio.js');
    const { fillFakeResults } = await import('../../bench/result-queries.js');
    const t = tempDir();
    done = t.cleanup;
    // 50,000 test predictions over 100 classes for two runs (no image files: thumbnails are grey tiles).
    const studio = openStudio({ libraryDir: t.dir, host: 'cli' });
    fillFakeResults(studio.library, { images: 50_000, trainImages: 500, classes: 100, runs: 2, featureDim: 64, accuracy: 0.6 });
    await studio.close();
    big = await startServe(t.dir);
    bigPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await bigPage.goto(big.url);
  }, 180_000);

  afterAll(async () => {
    await bigPage?.close();
    await big?.stop();
    done?.();
  });

  it('draws a 100-class matrix and scrolls 20,000 mistakes with a bounded DOM', async () => {
    await bigPage.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Runs', exact: true }).click();
    await bigPage.locator('[data-testid="run-row"][data-run-id="1"]').click();
    await bigPage.getByRole('tab', { name: 'Evaluation', exact: true }).click();
    await bigPage.getByTestId('confusion').waitFor({ timeout: 60_000 });
    expect(await bigPage.getByTestId('confusion-cell').count()).toBe(10_000);
    await bigPage.getByTestId('confusion-cell').nth(5 * 100 + 5).click();
    await expect.poll(() => bigPage.getByTestId('cell-gallery').getAttribute('data-total')).toMatch(/^[1-9]\d*$/);
    await bigPage.evaluate(() => document.querySelector('[role="tablist"]')?.scrollIntoView());
    await bigPage.screenshot({ path: artifactPath('e2e', 'results-scale-evaluation.png') });

    await bigPage.getByRole('tab', { name: 'Mistakes', exact: true }).click();
    const gallery = bigPage.getByTestId('mistakes-gallery');
    await bigPage.getByTestId('mistake').first().waitFor({ timeout: 30_000 });
    const total = Number(await gallery.getAttribute('data-total'));
    expect(total).toBeGreaterThan(15_000);
    expect(await bigPage.getByTestId('mistake').count()).toBeLessThan(100);
    // Jump to the middle: the cards there load, and the DOM stays small.
    await gallery.getByTestId('thumb-grid').evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
    await expect.poll(() => bigPage.getByTestId('mistake').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await bigPage.locator('.card-cell').count()).toBeLessThan(100);
    await bigPage.evaluate(() => document.querySelector('[role="tablist"]')?.scrollIntoView());
    await bigPage.screenshot({ path: artifactPath('e2e', 'results-scale-mistakes.png') });
  });
});
