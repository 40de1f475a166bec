// The Train view's insight tools in browser mode: the learning-rate finder (a sweep on an imported dataset
// draws the loss curve with the suggested rate marked, "Use" puts it in the form, the library gains no run)
// and the augmentation preview (the loader's training views, redrawn for another σ).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openShapesStudio, type ShapesStudio } from '../helpers/shapes-studio.js';
import { artifactPath } from '../helpers/temp.js';

let setup: ShapesStudio;
let page: Page;
let errors: string[];
const api = <T>(method: string, input: unknown = {}): Promise<T> => setup.api<T>(method, input);

beforeAll(async () => {
  setup = await openShapesStudio({ perClass: 24, size: 32, classes: ['circle', 'square', 'hstripes'], viewport: { width: 1280, height: 1100 } });
  ({ page, errors } = setup);
}, 120_000);

afterAll(async () => {
  await setup?.close();
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
    const latest = await api<{ suggested: number | null; curve: Array<{ lr: number }> }>('lrfinder.latest', { datasetId: 1 });
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
    expect(Number(await page.locator('#train-lr').inputValue())).toBe(shown);
    // Its own record only: no run.
    expect(await api<unknown[]>('runs.list')).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('previews what the network sees, and redraws it for another lighting σ', async () => {
    const box = page.getByTestId('augment-preview');
    await box.getByRole('button', { name: 'Preview what the network sees' }).click();
    const img = box.getByTestId('augment-img');
    await img.waitFor({ timeout: 120_000 });
    await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBeGreaterThan(0);
    const width = await img.evaluate((i) => (i as HTMLImageElement).naturalWidth);
    const caption = box.getByTestId('augment-caption');
    expect(await caption.innerText()).toMatch(/packed \(\d+ px\); then 6 training views of 32 px .*random crops, random mirrors, PCA lighting σ = 0\.1\), mean subtraction undone/);
    expect(await img.getAttribute('alt')).toBe('Training views of circle, hstripes, square, circle');
    const first = await img.getAttribute('src');
    const pixels = async (): Promise<string> =>
      img.evaluate((i) => {
        const im = i as HTMLImageElement;
        const c = document.createElement('canvas');
        c.width = im.naturalWidth;
        c.height = im.naturalHeight;
        const g = c.getContext('2d')!;
        g.drawImage(im, 0, 0);
        return Array.from(g.getImageData(0, 0, c.width, c.height).data.slice(0, 400_000)).join(',');
      });
    const before = await pixels();
    expect(await box.getByRole('button', { name: 'Refresh with these settings' }).isDisabled()).toBe(true);
    await page.locator('#train-sigma').fill('0.8');
    await box.getByRole('button', { name: 'Refresh with these settings' }).click();
    await expect.poll(() => img.getAttribute('src'), { timeout: 120_000 }).not.toBe(first);
    await expect.poll(() => caption.textContent()).toContain('PCA lighting σ = 0.8');
    await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBe(width);
    expect(await pixels()).not.toBe(before);
    await box.scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifactPath('e2e', 'augment-preview.png') });
    expect(errors).toEqual([]);
  });
});
