// A dataset given as train/ + test/ folders (CIFAR's layout) gets a validation split carved out of train:
// stratified, seeded, 10 % by default, recorded in the dataset, changeable, the given test split untouched.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SplitName } from '../../../src/api/datasets.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { makeImageFolder, type ImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from './wait-import.js';

let tmp: { dir: string; cleanup(): void };
let studio: Studio;
let folder: ImageFolder;

// 90 training images, 23 test images, no val/ folder.
const LAYOUT = { cat: { train: 40, val: 0, test: 10 }, dog: { train: 30, val: 0, test: 8 }, fox: { train: 20, val: 0, test: 5 } };

beforeAll(async () => {
  tmp = tempDir('convnet-val-carve-');
  folder = await makeImageFolder(path.join(tmp.dir, 'cifar-like'), { classes: LAYOUT, seed: 11 });
  studio = openStudio({ libraryDir: path.join(tmp.dir, 'lib'), host: 'cli' });
});

afterAll(async () => {
  await studio.close();
  tmp.cleanup();
});

/** Paths of a dataset's usable images in one split, sorted. */
async function pathsIn(datasetId: number, split: SplitName): Promise<string[]> {
  const page = await studio.call('images.list', { datasetId, split, limit: 500 });
  const paths = await Promise.all(page.items.map(async (i) => (await studio.call('images.get', { id: i.id })).path));
  return paths.sort();
}

const perClass = async (datasetId: number) =>
  Object.fromEntries((await studio.call('datasets.get', { id: datasetId })).classList.map((c) => [c.name, c.splitCounts]));

describe('validation carved out of a given train split', () => {
  let id: number;

  beforeAll(async () => {
    const done = await importAndWait(studio, { paths: [folder.root] });
    expect(done.error).toBeNull();
    id = done.result!.dataset.id;
  });

  it('takes 10 % of each class of train by default, and never touches the given test split', async () => {
    expect(await perClass(id)).toEqual({
      cat: { train: 36, val: 4, test: 10 },
      dog: { train: 27, val: 3, test: 8 },
      fox: { train: 18, val: 2, test: 5 },
    });
    const val = await pathsIn(id, 'val');
    expect(val.every((p) => p.includes(`${path.sep}train${path.sep}`))).toBe(true);
    const test = await pathsIn(id, 'test');
    expect(test).toHaveLength(23);
    expect(test.every((p) => p.includes(`${path.sep}test${path.sep}`))).toBe(true);
  });

  it('records the carve in the dataset (share, seed) and says so', async () => {
    const detail = await studio.call('datasets.get', { id });
    expect(detail.split).toEqual({ train: 0.9, val: 0.1, test: 0, seed: 0, given: false, valFromTrain: 0.1 });
  });

  it('is the same carve on a re-import (seeded by content), and another seed draws another', async () => {
    const before = await pathsIn(id, 'val');
    const again = await importAndWait(studio, { paths: [folder.root] });
    expect(again.result!.dataset.id).toBe(id);
    expect(await pathsIn(id, 'val')).toEqual(before);
    expect((await studio.call('datasets.get', { id })).split.valFromTrain).toBe(0.1);
    const reseeded = await studio.call('datasets.resplit', { id, train: 0.9, val: 0.1, test: 0, seed: 9, keepTest: true });
    expect(reseeded.splits).toEqual({ train: 81, val: 9, test: 23 });
    expect(await pathsIn(id, 'val')).not.toEqual(before);
  });

  it('warns that 9 validation images are too few for 3 classes, with the action that fixes it', async () => {
    const detail = await studio.call('datasets.get', { id });
    const warning = detail.warnings.find((w) => /validation/.test(w));
    expect(warning).toBe(
      `Only 9 validation images (at least 20 are useful for 3 classes): validation error moves in steps of 11.1 %, too coarse to choose the best epoch or to lower the learning rate on a plateau. ` +
        `Carve a validation split out of the training images: Re-split… on the dataset in the Library (Validation from train: 23 %), or \`convnet resplit ${id} --val-from-train 23\`.`,
    );
    // Following the advice silences it.
    const fixed = await studio.call('datasets.resplit', { id, train: 0.77, val: 0.23, test: 0, seed: 0, keepTest: true });
    expect(fixed.splits.val).toBeGreaterThanOrEqual(20);
    expect(fixed.splits.test).toBe(23);
    expect(fixed.warnings.filter((w) => /validation/.test(w))).toEqual([]);
  });
});

describe('choosing the share, and datasets imported without a carve', () => {
  it('carves the share asked for at import, or none with 0 (then warns with the fix)', async () => {
    const other = await makeImageFolder(path.join(tmp.dir, 'second'), { classes: LAYOUT, seed: 12 });
    const done = await importAndWait(studio, { paths: [other.root], valFromTrain: 0.2 });
    const id = done.result!.dataset.id;
    expect(done.result!.dataset.splits).toEqual({ train: 72, val: 18, test: 23 });
    expect((await studio.call('datasets.get', { id })).split.valFromTrain).toBe(0.2);

    const none = await importAndWait(studio, { paths: [other.root], valFromTrain: 0 });
    expect(none.result!.dataset.id).toBe(id);
    expect(none.result!.dataset.splits).toEqual({ train: 90, val: 0, test: 23 });
    const detail = await studio.call('datasets.get', { id });
    expect(detail.split.valFromTrain).toBeNull();
    expect(detail.warnings).toContain(
      `No validation images: training cannot measure validation error, so the learning rate is never lowered on a plateau and no best epoch is chosen. ` +
        `Carve a validation split out of the training images: Re-split… on the dataset in the Library (Validation from train: 23 %), or \`convnet resplit ${id} --val-from-train 23\`.`,
    );

    // An existing dataset without validation: carve it through the resplit action, test kept.
    const testBefore = await pathsIn(id, 'test');
    const carved = await studio.call('datasets.resplit', { id, train: 0.9, val: 0.1, test: 0, seed: 0, keepTest: true });
    expect(carved.splits).toEqual({ train: 81, val: 9, test: 23 });
    expect(carved.split.valFromTrain).toBe(0.1);
    expect(await pathsIn(id, 'test')).toEqual(testBefore);
  });

  it('refuses to keep a test split that a stratified split drew, with a clear message', async () => {
    const flat = await makeImageFolder(path.join(tmp.dir, 'flat'), { classes: { a: 20, b: 20 }, seed: 13 });
    const done = await importAndWait(studio, { paths: [flat.root] });
    const id = done.result!.dataset.id;
    expect((await studio.call('datasets.get', { id })).split.valFromTrain).toBeNull();
    await expect(studio.call('datasets.resplit', { id, train: 0.9, val: 0.1, test: 0, seed: 0, keepTest: true })).rejects.toThrow(
      /test split was drawn by a stratified split, not given by its source/,
    );
    await expect(studio.call('datasets.resplit', { id, train: 0.8, val: 0.1, test: 0.1, seed: 0, keepTest: true })).rejects.toThrow(/test must be 0/);
  });
});
