// Grad-CAM in the results image panel, in browser mode: a tiny run trained by the CLI, `convnet serve`,
// Chromium opens a confusion cell's image and turns the heat map on, picks another class and layer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openShapesStudio, type ShapesStudio } from '../helpers/shapes-studio.js';
import { artifactPath } from '../helpers/temp.js';

let setup: ShapesStudio;
let page: Page;
let errors: string[];
const api = <T>(method: string, input: unknown = {}): Promise<T> => setup.api<T>(method, input);

beforeAll(async () => {
  setup = await openShapesStudio({
    perClass: 16,
    size: 48,
    classes: ['circle', 'square', 'hstripes'],
    trains: [['--epochs', '2', '--batch-size', '8']],
    viewport: { width: 1280, height: 900 },
  });
  ({ page, errors } = setup);
}, 240_000);

afterAll(async () => {
  await setup?.close();
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
