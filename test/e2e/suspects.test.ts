// Suspected labels in browser mode: a tiny run with three planted wrong labels, trained by the CLI; Chromium
// opens its Suspects tab, scans (2 folds × 2 epochs), stops a rescan, relabels the top suspect from its card,
// and retrains with the fixes: a new run with the same config whose snapshot carries the new label.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openShapesStudio, type ShapesStudio } from '../helpers/shapes-studio.js';
import { artifactPath } from '../helpers/temp.js';

let setup: ShapesStudio;
let page: Page;
let errors: string[];
const api = <T>(method: string, input: unknown = {}): Promise<T> => setup.api<T>(method, input);

interface Suspect {
  id: number;
  fileName: string;
  trueClass: string;
  predictedClass: string;
  score: number;
}

beforeAll(async () => {
  setup = await openShapesStudio({
    perClass: 16,
    size: 48,
    classes: ['circle', 'square', 'hstripes'],
    // Three circles labelled square.
    arrange: (shapes) => {
      for (let i = 0; i < 3; i++) {
        const name = `circle-000${i}.png`;
        fs.renameSync(path.join(shapes, 'circle', name), path.join(shapes, 'square', name));
      }
    },
    importArgs: ['--split', '100/0/0'],
    trains: [['--epochs', '2', '--batch-size', '8']],
    viewport: { width: 1280, height: 900 },
  });
  ({ page, errors } = setup);
}, 240_000);

afterAll(async () => {
  await setup?.close();
});

describe('Suspects tab', () => {
  it('scans a run, lists the suspects the API ranks, stops a rescan, relabels one and retrains with the fix', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Runs', exact: true }).click();
    await page.getByTestId('run-row').first().click();
    await page.getByRole('tab', { name: 'Suspects', exact: true }).click();
    const tab = page.getByTestId('suspects-tab');
    await tab.getByText('No scan yet for this run.').waitFor({ timeout: 30_000 });

    await tab.getByLabel('Folds').selectOption('2');
    await tab.getByLabel('Epochs per fold').fill('2');
    await tab.getByLabel('Epochs per fold').dispatchEvent('change');
    await tab.getByRole('button', { name: 'Find suspects' }).click();
    await tab.getByTestId('suspects-progress').waitFor({ timeout: 30_000 });
    const summary = tab.getByTestId('suspects-summary');
    await summary.waitFor({ timeout: 180_000 });
    const listed = await api<{ scan: { folds: number; epochs: number; images: number; disagreements: number }; total: number; items: Suspect[] }>('suspects.list', { runId: 1, limit: 500 });
    expect(listed.scan).toMatchObject({ folds: 2, epochs: 2, images: 48 });
    expect(listed.total).toBe(listed.scan.disagreements);
    expect(listed.total).toBeGreaterThan(0);
    // Most suspect first: scores never rise down the list, and each one's prediction disagrees with its label.
    listed.items.forEach((s, i) => {
      expect(s.predictedClass).not.toBe(s.trueClass);
      if (i > 0) {
        expect(s.score).toBeLessThanOrEqual(listed.items[i - 1]!.score);
      }
    });
    expect(await summary.textContent()).toContain(`${listed.total} suspect${listed.total === 1 ? '' : 's'} among 48 training images · 2 folds × 2 epochs`);
    const gallery = page.getByTestId('suspects-gallery');
    await expect.poll(() => gallery.getAttribute('data-total')).toBe(String(listed.total));
    const top = listed.items[0]!;
    const card = gallery.getByTestId('mistake').first();
    await expect.poll(() => card.getAttribute('data-image-id')).toBe(String(top.id));
    await page.screenshot({ path: artifactPath('e2e', 'suspects-tab.png') });

    // Grad-CAM over the card's thumbnail: what drove the run's own top-1 for this image.
    await card.getByRole('button', { name: 'Grad-CAM heat map' }).click();
    const thumb = card.getByTestId('mistake-img');
    await expect.poll(() => thumb.getAttribute('src'), { timeout: 60_000 }).toContain(`/media/gradcam/1/${top.id}/last-top1.png`);
    await expect.poll(() => thumb.evaluate((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth), { timeout: 30_000 }).toBe(48);
    expect(await card.getByRole('button', { name: 'Grad-CAM heat map' }).getAttribute('aria-pressed')).toBe('true');
    await page.screenshot({ path: artifactPath('e2e', 'suspects-gradcam.png') });
    await card.getByRole('button', { name: 'Grad-CAM heat map' }).click();
    await expect.poll(() => thumb.getAttribute('src')).toBe(`/media/thumb/${top.id}`);

    // A rescan stopped midway stores nothing: the first scan stays.
    await tab.getByRole('button', { name: 'Scan again' }).click();
    await tab.getByTestId('suspects-progress').waitFor({ timeout: 30_000 });
    await tab.getByRole('button', { name: 'Stop' }).click();
    await tab.getByText('Stopped; nothing was stored.').waitFor({ timeout: 60_000 });
    const after = await api<{ scan: { computedAt: number } }>('suspects.list', { runId: 1, limit: 1 });
    expect(after.scan).toEqual((await api<{ scan: unknown }>('suspects.list', { runId: 1, limit: 1 })).scan);
    expect(await summary.textContent()).toContain(`${listed.total} suspect`);

    // Relabel the top suspect as its out-of-fold prediction, from its card.
    await card.getByRole('button', { name: `Relabel → ${top.predictedClass}` }).click();
    await expect.poll(() => tab.getByTestId('edit-note').textContent()).toBe(`Relabelled ${top.fileName} as ${top.predictedClass} in the library`);
    await expect.poll(() => card.getByTestId('mistake-state').textContent()).toBe(`Now ${top.predictedClass}`);

    // Retrain with fixes: a new run, same config, trained on the library as it is now.
    await tab.getByRole('button', { name: 'Retrain with fixes' }).click();
    await expect.poll(async () => (await api<Array<{ id: number }>>('runs.list', {})).length, { timeout: 30_000 }).toBe(2);
    const [first, second] = await Promise.all([api<{ config: unknown }>('runs.get', { id: 1 }), api<{ config: unknown }>('runs.get', { id: 2 })]);
    expect(second.config).toEqual(first.config);
    await expect
      .poll(async () => (await api<{ trueClass: string }>('results.image', { runId: 2, imageId: top.id }).catch(() => ({ trueClass: null }))).trueClass, { timeout: 60_000 })
      .toBe(top.predictedClass);
    await api('runs.stop', { id: 2 }).catch(() => undefined);
    expect(errors).toEqual([]);
  });
});
