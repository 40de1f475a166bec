import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultImage } from '../../../src/api/results.js';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

function quietIO(): CliIO & { stdout: string } {
  const io = { stdout: '', isTTY: false, env: {}, out: (t: string) => void (io.stdout += t), err: () => undefined };
  return io;
}

interface PredictionRow {
  image_id: number;
  label: number;
  top1: number;
  top1_prob: number;
  correct_top1: number;
}

describe('results of a trained run', () => {
  let studio: Studio;
  let lib: string;
  let datasetId: number;
  let runA: number;

  const train = async (epochs: number, seed: number): Promise<number> => {
    const { id } = await studio.call('runs.start', { datasetId, arch: 'alexnet-small', epochs, batchSize: 8, backend: 'wasm', seed });
    await studio.training.settled(id);
    expect((await studio.call('runs.get', { id })).status).toBe('completed');
    return id;
  };
  const rows = (runId: number, split: string): PredictionRow[] =>
    studio.library.db.prepare('SELECT image_id, label, top1, top1_prob, correct_top1 FROM predictions WHERE run_id = ? AND split = ?').all(runId, split) as PredictionRow[];
  const byConfidence = (a: { confidence: number; id: number }, b: { confidence: number; id: number }): number => b.confidence - a.confidence || b.id - a.id;

  beforeAll(async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const images = path.join(t.dir, 'images');
    await writeShapesDataset(images, 20, 32, 1, ['circle', 'square', 'hstripes']);
    lib = path.join(t.dir, 'lib');
    const io = quietIO();
    expect(await runCli(['import', images, '--library', lib, '--name', 'shapes', '--json'], io)).toBe(0);
    datasetId = JSON.parse(io.stdout).dataset.id;
    studio = openStudio({ libraryDir: lib, host: 'cli' });
    runA = await train(2, 1);
  });
  afterAll(async () => studio?.close());

  it('stores predictions and features for every split once training completes', async () => {
    const detail = await studio.call('datasets.get', { id: datasetId });
    const sets = await studio.call('results.sets', { runId: runA });
    expect(sets.map((s) => s.split).sort()).toEqual(['test', 'train', 'val']);
    for (const split of ['train', 'val', 'test'] as const) {
      expect(rows(runA, split)).toHaveLength(detail.splits[split]);
      expect(sets.find((s) => s.split === split)!.images).toBe(detail.splits[split]);
      expect(fs.existsSync(path.join(studio.library.runsDir, String(runA), `features-${split}.f32`))).toBe(true);
    }
    expect(sets[0]!.featureDim).toBe(256);
  });

  it('summarises a split: the confusion matrix sums to its size and a cell holds exactly its images by confidence', async () => {
    const summary = await studio.call('results.summary', { runId: runA, split: 'val' });
    const stored = rows(runA, 'val');
    expect(summary.confusion.flat().reduce((a, b) => a + b, 0)).toBe(stored.length);
    expect(summary.perClass.map((c) => c.support).reduce((a, b) => a + b, 0)).toBe(stored.length);
    expect(summary.top1Error).toBeCloseTo(stored.filter((r) => !r.correct_top1).length / stored.length, 6);
    summary.confusionNormalized.forEach((row, i) => {
      if (summary.perClass[i]!.support) {
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      }
    });
    for (let t = 0; t < summary.classes.length; t++) {
      for (let p = 0; p < summary.classes.length; p++) {
        const cell = await studio.call('results.cell', { runId: runA, split: 'val', trueLabel: t, predictedLabel: p });
        const expected = stored.filter((r) => r.label === t && r.top1 === p).map((r) => r.image_id).sort((a, b) => a - b);
        expect(cell.total).toBe(summary.confusion[t]![p]);
        expect(cell.items.map((i) => i.id).sort((a, b) => a - b)).toEqual(expected);
        expect(cell.items).toEqual([...cell.items].sort(byConfidence));
      }
    }
  });

  it('lists exactly the misclassified images, most confident first, with true label and top-5', async () => {
    for (const split of ['val', 'test', 'train'] as const) {
      const wrong = rows(runA, split).filter((r) => r.label !== r.top1);
      const page = await studio.call('results.mistakes', { runId: runA, split, limit: 500 });
      expect(page.total).toBe(wrong.length);
      expect(page.items.map((i) => i.id).sort((a, b) => a - b)).toEqual(wrong.map((r) => r.image_id).sort((a, b) => a - b));
      expect(page.items).toEqual([...page.items].sort(byConfidence));
      for (const item of page.items) {
        expect(item.correct).toBe(false);
        expect(item.top5[0]!.label).toBe(item.predictedLabel);
        expect(item.top5.length).toBe(3); // three classes
        expect(item.thumbnail).toBe(`/media/thumb/${item.id}`);
      }
    }
  });

  it('finds the nearest training images by fc7 distance: a training image first finds itself at 0', async () => {
    const trainImage = rows(runA, 'train')[5]!.image_id;
    const near = await studio.call('results.neighbours', { runId: runA, imageId: trainImage, k: 5 });
    expect(near.items[0]).toMatchObject({ id: trainImage, distance: 0 });
    expect(near.items).toHaveLength(5);
    expect(near.searched).toBe(rows(runA, 'train').length);
    const distances = near.items.map((n) => n.distance);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    const valImage = rows(runA, 'val')[0]!.image_id;
    const fromVal = await studio.call('results.neighbours', { runId: runA, imageId: valImage, k: 3 });
    expect(fromVal.items.every((n) => n.id !== valImage)).toBe(true);
    expect((await studio.call('results.image', { runId: runA, imageId: valImage })).prediction?.id).toBe(valImage);
  });

  it('draws the conv1 kernels as a grid PNG sized by their shape, and a layer\'s activations', async () => {
    const filters = await studio.call('results.filters', { runId: runA });
    expect(filters.shape).toEqual([5, 5, 3, 32]); // alexnet-small conv1
    expect(filters.columns * filters.rows).toBeGreaterThanOrEqual(32);
    expect(filters.width).toBe(filters.columns * filters.cell + (filters.columns + 1) * filters.gap);
    const media = await studio.resolveMedia(new URL(filters.url, 'http://x'));
    expect(media).toMatchObject({ status: 200, contentType: 'image/png' });
    const meta = await sharp((media as { file: string }).file).metadata();
    expect([meta.width, meta.height]).toEqual([filters.width, filters.height]);

    const imageId = rows(runA, 'val')[0]!.image_id;
    const act = await studio.call('results.activations', { runId: runA, imageId, layer: 'conv2' });
    expect(act.layers).toEqual(expect.arrayContaining(['conv1', 'conv2', 'pool5', 'fc6', 'fc7', 'fc8']));
    expect(act.shape).toEqual([15, 15, 64]); // 32 px → conv1 → 3×3/2 pool → conv2
    const png = await studio.resolveMedia(new URL(act.url, 'http://x'));
    const actMeta = await sharp((png as { file: string }).file).metadata();
    expect([actMeta.width, actMeta.height]).toEqual([act.width, act.height]);
    await expect(studio.call('results.activations', { runId: runA, imageId, layer: 'nope' })).rejects.toThrow(/no layer "nope"/);
  });

  it('`convnet eval --json` keeps its shape and stores the predictions it makes', async () => {
    const io = quietIO();
    expect(await runCli(['eval', '--run', String(runA), '--library', lib, '--split', 'test', '--json'], io)).toBe(0);
    const out = JSON.parse(io.stdout);
    expect(Object.keys(out)).toEqual(['images', 'top1Error', 'top5Error', 'perClass', 'confusion']);
    expect(Object.keys(out.perClass[0])).toEqual(['class', 'precision', 'recall', 'support']);
    const summary = await studio.call('results.summary', { runId: runA, split: 'test' });
    expect(summary.confusion).toEqual(out.confusion);
    expect(summary.top1Error).toBeCloseTo(out.top1Error, 6);
  });

  it('compares two runs on the same split both ways (disjoint), and fixing a label flows into the next run', async () => {
    const runB = await train(1, 2);
    const ab = await studio.call('results.compare', { runA, runB, split: 'train', which: 'aRightBWrong', limit: 500 });
    const ba = await studio.call('results.compare', { runA, runB, split: 'train', which: 'aWrongBRight', limit: 500 });
    const a = new Map(rows(runA, 'train').map((r) => [r.image_id, r.correct_top1]));
    const b = new Map(rows(runB, 'train').map((r) => [r.image_id, r.correct_top1]));
    const expectIds = (aRight: number, bRight: number): number[] => [...a.keys()].filter((id) => a.get(id) === aRight && b.get(id) === bRight).sort((x, y) => x - y);
    const ids = (page: { items: Array<{ a: ResultImage; b: ResultImage }> }): number[] => page.items.map((i) => i.a.id).sort((x, y) => x - y);
    expect(ids(ab)).toEqual(expectIds(1, 0));
    expect(ids(ba)).toEqual(expectIds(0, 1));
    expect(ids(ab).filter((id) => ids(ba).includes(id))).toEqual([]);
    expect(ab.counts.aRightBWrong + ab.counts.aWrongBRight + ab.counts.bothRight + ab.counts.bothWrong).toBe(a.size);
    ab.items.forEach((i) => expect([i.a.correct, i.b.correct]).toEqual([true, false]));

    // Fix the data: relabel a misclassified image to what the network saw, exclude another.
    const [mistake, other] = (await studio.call('results.mistakes', { runId: runA, split: 'train', limit: 2 })).items;
    expect(mistake && other).toBeTruthy();
    const classes = (await studio.call('datasets.get', { id: datasetId })).classList;
    const target = classes.find((c) => c.name === mistake!.predictedClass)!;
    await studio.call('images.update', { ids: [mistake!.id], classId: target.id });
    await studio.call('images.update', { ids: [other!.id], excluded: true });
    expect((await studio.call('images.get', { id: mistake!.id })).className).toBe(mistake!.predictedClass);
    const fixed = (await studio.call('results.mistakes', { runId: runA, split: 'train', limit: 2 })).items[0]!;
    expect(fixed.className).toBe(mistake!.predictedClass); // the library's label now, beside the run's trueClass
    expect(fixed.trueClass).toBe(mistake!.trueClass);

    const runC = await train(1, 3);
    const snapshot = studio.library.db.prepare('SELECT image_id, label FROM run_images WHERE run_id = ?').all(runC) as Array<{ image_id: number; label: number }>;
    const runCClasses = (await studio.call('runs.get', { id: runC })).classes;
    expect(runCClasses[snapshot.find((s) => s.image_id === mistake!.id)!.label]).toBe(mistake!.predictedClass);
    expect(snapshot.some((s) => s.image_id === other!.id)).toBe(false);
    await expect(studio.call('results.compare', { runA, runB: runC, split: 'train', which: 'aRightBWrong' })).rejects.toThrow(/not evaluated on the same train images/);
  });

  it('tags, notes and deletes runs with their artifacts, refusing one that trains', async () => {
    const tagged = await studio.call('runs.update', { id: runA, tags: ['baseline', 'baseline', 'small'], note: 'first try' });
    expect(tagged).toMatchObject({ tags: ['baseline', 'small'], note: 'first try' });
    expect((await studio.call('runs.list')).find((r) => r.id === runA)!.tags).toEqual(['baseline', 'small']);

    const { id: live } = await studio.call('runs.start', { datasetId, epochs: 3, batchSize: 8, backend: 'wasm' });
    await expect(studio.call('runs.delete', { id: live })).rejects.toThrow(/stop it before deleting/);
    await studio.call('runs.stop', { id: live });
    await studio.training.settled(live);

    const dir = path.join(studio.library.runsDir, String(runA));
    expect(fs.existsSync(dir)).toBe(true);
    expect(await studio.call('runs.delete', { id: runA })).toEqual({ deleted: true });
    expect(fs.existsSync(dir)).toBe(false);
    for (const table of ['runs', 'epochs', 'run_log', 'run_images', 'predictions', 'prediction_sets']) {
      const column = table === 'runs' ? 'id' : 'run_id';
      expect(studio.library.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`).get(runA)).toEqual({ n: 0 });
    }
    await expect(studio.call('results.summary', { runId: runA, split: 'val' })).rejects.toThrow(/does not exist/);
    expect(await studio.call('runs.delete', { id: live })).toEqual({ deleted: true });
  });
});
