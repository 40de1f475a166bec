import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillFakeResults, type FakeResults } from '../../../bench/result-queries.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { tempDir } from '../../helpers/temp.js';

interface Row {
  image_id: number;
  label: number;
  top1: number;
  top1_prob: number;
  correct_top1: number;
}

describe('result queries over stored predictions', () => {
  const t = tempDir();
  let studio: Studio;
  let fake: FakeResults;
  let other: FakeResults;
  const rows = (runId: number): Row[] =>
    studio.library.db.prepare("SELECT image_id, label, top1, top1_prob, correct_top1 FROM predictions WHERE run_id = ? AND split = 'test'").all(runId) as Row[];
  const sortIds = (ids: number[]): number[] => [...ids].sort((a, b) => a - b);

  beforeAll(() => {
    studio = openStudio({ libraryDir: t.dir, host: 'cli' });
    fake = fillFakeResults(studio.library, { images: 400, trainImages: 200, classes: 7, runs: 2, featureDim: 16, seed: 5 });
    other = fillFakeResults(studio.library, { images: 50, trainImages: 20, classes: 7, runs: 1, featureDim: 16, seed: 6 });
  });
  afterAll(async () => {
    await studio.close();
    t.cleanup();
  });

  it('summarises: confusion counts, row-normalised rates and per-class top-1/top-5 error', async () => {
    const [a] = fake.runIds;
    const s = await studio.call('results.summary', { runId: a!, split: 'test' });
    const stored = rows(a!);
    expect(s.confusion.flat().reduce((x, y) => x + y, 0)).toBe(400);
    expect(s.classes).toHaveLength(7);
    for (const c of s.perClass) {
      const mine = stored.filter((r) => r.label === c.label);
      expect(c.support).toBe(mine.length);
      expect(c.top1Error).toBeCloseTo(mine.filter((r) => !r.correct_top1).length / mine.length, 9);
      expect(s.confusionNormalized[c.label]!.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 9);
    }
    expect(s.top1Error).toBeCloseTo(stored.filter((r) => !r.correct_top1).length / 400, 9);
  });

  it('pages a cell and the mistakes in confidence order, both ways, with class filters', async () => {
    const [a] = fake.runIds;
    const stored = rows(a!);
    const cell = stored.filter((r) => r.label === 2 && r.top1 === 4).sort((x, y) => y.top1_prob - x.top1_prob || y.image_id - x.image_id);
    const first = await studio.call('results.cell', { runId: a!, split: 'test', trueLabel: 2, predictedLabel: 4, limit: 3 });
    const rest = await studio.call('results.cell', { runId: a!, split: 'test', trueLabel: 2, predictedLabel: 4, offset: 3 });
    expect(first.total).toBe(cell.length);
    expect([...first.items, ...rest.items].map((i) => i.id)).toEqual(cell.map((r) => r.image_id));
    const least = await studio.call('results.cell', { runId: a!, split: 'test', trueLabel: 2, predictedLabel: 4, order: 'leastConfident' });
    expect(least.items.map((i) => i.id)).toEqual(cell.map((r) => r.image_id).reverse());

    const wrong = await studio.call('results.mistakes', { runId: a!, split: 'test', limit: 500 });
    expect(sortIds(wrong.items.map((i) => i.id))).toEqual(sortIds(stored.filter((r) => r.label !== r.top1).map((r) => r.image_id)));
    const ofClass = await studio.call('results.mistakes', { runId: a!, split: 'test', trueLabel: 3, limit: 500 });
    expect(ofClass.items.every((i) => i.trueLabel === 3 && !i.correct)).toBe(true);
    expect(ofClass.total).toBe(stored.filter((r) => r.label === 3 && r.top1 !== 3).length);
    expect(wrong.items[0]).toMatchObject({ thumbnail: `/media/thumb/${wrong.items[0]!.id}`, split: 'test', excluded: false });
    expect(wrong.items[0]!.className).toBe(wrong.items[0]!.trueClass);
  });

  it('compares two runs both ways (disjoint, counts add up) and refuses runs of another dataset', async () => {
    const [a, b] = fake.runIds as [number, number];
    const ab = await studio.call('results.compare', { runA: a, runB: b, split: 'test', which: 'aRightBWrong', limit: 500 });
    const ba = await studio.call('results.compare', { runA: a, runB: b, split: 'test', which: 'aWrongBRight', limit: 500 });
    const right = (runId: number): Set<number> => new Set(rows(runId).filter((r) => r.correct_top1).map((r) => r.image_id));
    const [ra, rb] = [right(a), right(b)];
    expect(sortIds(ab.items.map((i) => i.a.id))).toEqual(sortIds([...ra].filter((id) => !rb.has(id))));
    expect(sortIds(ba.items.map((i) => i.b.id))).toEqual(sortIds([...rb].filter((id) => !ra.has(id))));
    expect(ab.items.some((i) => ba.items.some((j) => j.a.id === i.a.id))).toBe(false);
    const c = ab.counts;
    expect(c.aRightBWrong + c.aWrongBRight + c.bothRight + c.bothWrong).toBe(400);
    await expect(studio.call('results.compare', { runA: a, runB: other.runIds[0]!, split: 'test', which: 'aRightBWrong' })).rejects.toThrow(
      /not evaluated on the same test images/,
    );
    await expect(studio.call('results.summary', { runId: a, split: 'val' })).rejects.toThrow(/has no predictions on its val split yet; compute them first \(its Evaluation tab, or `convnet eval --run \d+ --split val`\)/);
  });

  it('answers neighbours from the cached train features, nearest first', async () => {
    const [a] = fake.runIds;
    const train = fake.trainIds[17]!;
    const near = await studio.call('results.neighbours', { runId: a!, imageId: train, k: 4 });
    expect(near.items[0]).toMatchObject({ id: train, distance: 0 });
    expect(near).toMatchObject({ featureDim: 16, searched: 200 });
    const fromTest = await studio.call('results.neighbours', { runId: a!, imageId: fake.testIds[3]!, k: 4 });
    expect(fromTest.items.map((n) => n.distance)).toEqual([...fromTest.items.map((n) => n.distance)].sort((x, y) => x - y));
    await expect(studio.call('results.neighbours', { runId: a!, imageId: other.testIds[0]!, k: 4 })).rejects.toThrow(/not in run/);
  });
});
