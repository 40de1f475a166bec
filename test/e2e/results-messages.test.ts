// What the results tabs say when there is nothing to show yet, end to end in browser mode: a dataset with no
// validation images (imported 80/0/20) and two tiny runs on it, trained by the CLI before `convnet serve` starts.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openShapesStudio, type ShapesStudio } from '../helpers/shapes-studio.js';
import { artifactPath } from '../helpers/temp.js';

let setup: ShapesStudio;
let page: Page;
let errors: string[];

beforeAll(async () => {
  setup = await openShapesStudio({
    perClass: 10,
    size: 32,
    classes: ['circle', 'square'],
    importArgs: ['--split', '80/0/20'],
    trains: [
      ['--epochs', '1', '--batch-size', '8'],
      ['--epochs', '1', '--batch-size', '16'],
    ],
    // Training stores train and test predictions; take run 1's and run 2's train ones away (as for runs stopped early).
    beforeServe: (library) => {
      const db = new Database(path.join(library, 'library.sqlite'));
      db.exec("DELETE FROM predictions WHERE run_id = 1 OR split = 'train'; DELETE FROM prediction_sets WHERE run_id = 1 OR split = 'train';");
      db.close();
    },
    viewport: { width: 1280, height: 900 },
    errors: 'exceptions',
  });
  ({ page, errors } = setup);
}, 240_000);

afterAll(async () => {
  await setup?.close();
});

const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name, exact: true });
const tab = (name: string) => page.getByRole('tab', { name, exact: true });

describe('results tabs with nothing to show yet', () => {
  it('Evaluation opens on a split that has images, and says so plainly of an empty one', async () => {
    await nav('Runs').click();
    await page.locator('[data-testid="run-row"][data-run-id="1"]').click();
    await tab('Evaluation').click();
    const bar = page.getByTestId('split-bar');
    await bar.waitFor();
    await expect.poll(() => page.getByLabel('Split', { exact: true }).inputValue()).toBe('test');
    expect(await bar.textContent()).not.toContain('Compute val predictions');
    await page.getByLabel('Split', { exact: true }).selectOption('val');
    await expect.poll(() => bar.textContent()).toContain("This dataset's val split has no images: choose another split, or re-split the dataset in the Library.");
    expect(await bar.getByRole('button', { name: /Compute/ }).count()).toBe(0);
    await page.evaluate(() => document.querySelector('[role="tablist"]')?.scrollIntoView());
    await page.screenshot({ path: artifactPath('e2e', 'results-empty-val.png') });
  });

  it('Compare says which run lacks predictions and offers to compute them, with no API jargon or useless Retry', async () => {
    await tab('Compare').click();
    await page.getByLabel('Split', { exact: true }).selectOption('train');
    const missing = page.getByTestId('compare-missing');
    await missing.waitFor({ timeout: 30_000 });
    expect(await missing.textContent()).toMatch(/both runs need predictions on the train split;\s*run #1 and run #2 have none yet/);
    const tabText = (await page.getByTestId('compare-tab').textContent())!;
    expect(tabText).not.toMatch(/runs\.predict|Retry/);
    await page.evaluate(() => document.querySelector('[role="tablist"]')?.scrollIntoView());
    await page.screenshot({ path: artifactPath('e2e', 'results-compare-missing.png') });
    await missing.getByRole('button', { name: "Compute run #2's train predictions" }).click();
    await expect.poll(() => missing.textContent(), { timeout: 60_000 }).toMatch(/run #1 has none yet/);
    await missing.getByRole('button', { name: "Compute run #1's train predictions" }).click();
    await expect.poll(() => page.getByTestId('compare-gallery').getAttribute('data-total'), { timeout: 60_000 }).toMatch(/^\d+$/);
    expect(errors).toEqual([]);
  });
});
