import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStudio, type Studio } from '../../../src/studio.js';
import { makeImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from './wait-import.js';

let tmp: { dir: string; cleanup(): void };
let studio: Studio;
let datasetId: number;

beforeAll(async () => {
  tmp = tempDir('convnet-images-');
  const folder = await makeImageFolder(path.join(tmp.dir, 'src'), { classes: { ant: 10, bee: 10 } });
  studio = openStudio({ libraryDir: path.join(tmp.dir, 'lib'), host: 'cli' });
  datasetId = (await importAndWait(studio, { paths: [folder.root] })).result!.dataset.id;
});

afterAll(async () => {
  await studio.close();
  tmp.cleanup();
});

describe('editing images in the library', () => {
  it('filters by class, split, status and file name', async () => {
    const detail = await studio.call('datasets.get', { id: datasetId });
    const ant = detail.classList.find((c) => c.name === 'ant')!;
    expect((await studio.call('images.list', { datasetId, classId: ant.id })).total).toBe(10);
    expect((await studio.call('images.list', { datasetId, split: 'val' })).total).toBe(2);
    expect((await studio.call('images.list', { datasetId, search: '0001' })).total).toBe(2);
    expect((await studio.call('images.list', { datasetId, search: '%' })).total).toBe(0);
    const page = await studio.call('images.list', { datasetId, limit: 5, offset: 5, sort: 'name' });
    expect(page.items).toHaveLength(5);
    expect(page.total).toBe(20);
  });

  it('relabel, exclude and move change what images.list returns, and are journaled', async () => {
    const detail = await studio.call('datasets.get', { id: datasetId });
    const [ant, bee] = [detail.classList[0]!, detail.classList[1]!];
    const ants = (await studio.call('images.list', { datasetId, classId: ant.id, limit: 3 })).items.map((i) => i.id);
    expect(await studio.call('images.update', { ids: ants, classId: bee.id })).toEqual({ updated: 3 });
    expect((await studio.call('images.list', { datasetId, classId: bee.id })).total).toBe(13);
    const one = await studio.call('images.get', { id: ants[0]! });
    expect(one.className).toBe('bee');
    expect(one.originalClassName).toBe('ant');
    expect(one.path).toMatch(/src\/ant\//);
    expect(one.sha256).toMatch(/^[0-9a-f]{64}$/);

    await studio.call('images.update', { ids: [ants[1]!], excluded: true });
    expect((await studio.call('images.list', { datasetId })).total).toBe(19);
    expect((await studio.call('images.list', { datasetId, status: 'excluded' })).items.map((i) => i.id)).toEqual([ants[1]]);
    expect((await studio.call('images.list', { datasetId, status: 'all' })).total).toBe(20);

    await studio.call('images.update', { ids: [ants[2]!], split: 'test' });
    const moved = await studio.call('images.get', { id: ants[2]! });
    expect([moved.split, moved.splitSource]).toEqual(['test', 'manual']);

    const journal = studio.library.db.prepare(`SELECT message FROM journal WHERE kind = 'images.update' ORDER BY id`).all() as Array<{ message: string }>;
    expect(journal).toHaveLength(3);
    expect(journal[0]!.message).toContain(`"classId":${bee.id}`);
  });

  it('rejects edits to unknown images or a class from another dataset', async () => {
    await expect(studio.call('images.update', { ids: [999_999], excluded: true })).rejects.toThrow(/do not exist/);
    await expect(studio.call('images.update', { ids: [1] })).rejects.toThrow(/say what to change/);
  });

  it('resplit reassigns every image deterministically, replacing edited splits', async () => {
    const detail = await studio.call('datasets.resplit', { id: datasetId, train: 0.5, val: 0.5, test: 0, seed: 5 });
    expect(detail.split).toEqual({ train: 0.5, val: 0.5, test: 0, seed: 5, given: false });
    expect(detail.splits.test).toBe(0);
    const all = await studio.call('images.list', { datasetId, status: 'all', limit: 500 });
    const again = await studio.call('datasets.resplit', { id: datasetId, train: 0.5, val: 0.5, test: 0, seed: 5 });
    expect(again.splits).toEqual(detail.splits);
    expect((await studio.call('images.list', { datasetId, status: 'all', limit: 500 })).items).toEqual(all.items);
    await expect(studio.call('datasets.resplit', { id: datasetId, train: 0.5, val: 0.2, test: 0.2, seed: 1 })).rejects.toThrow(/add up to 1/);
  });

  it('renames and deletes datasets (library records only)', async () => {
    expect((await studio.call('datasets.rename', { id: datasetId, name: 'insects' })).name).toBe('insects');
    expect(await studio.call('datasets.delete', { id: datasetId })).toEqual({ deleted: true });
    expect(await studio.call('datasets.list')).toEqual([]);
    expect(studio.library.db.prepare('SELECT COUNT(*) AS n FROM images').get()).toEqual({ n: 0 });
    await expect(studio.call('datasets.get', { id: datasetId })).rejects.toThrow(/No dataset/);
  });
});

describe('images.list at 100,000 images', () => {
  it('answers pages, filters and counts quickly', async () => {
    const db = studio.library.db;
    const now = Date.now();
    db.prepare(`INSERT INTO datasets (id, name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed) VALUES (900, 'big', ?, ?, '[]', 'big', 'ready', 0.8, 0.1, 0.1, 0)`).run(now, now);
    db.transaction(() => {
      const cls = db.prepare('INSERT INTO classes (dataset_id, name) VALUES (900, ?)');
      for (let c = 0; c < 100; c++) {cls.run(`class-${c}`);}
      const first = (db.prepare(`SELECT MIN(id) AS id FROM classes WHERE dataset_id = 900`).get() as { id: number }).id;
      const img = db.prepare(`INSERT INTO images (dataset_id, path, relative_path, file_name, sha256, size, mtime_ms, width, height, format, class_id, original_class_id, split, split_source, indexed_at)
                              VALUES (900, ?, ?, ?, ?, 1000, 0, 64, 64, 'jpeg', ?, ?, ?, 'auto', 0)`);
      for (let i = 0; i < 100_000; i++) {
        const name = `img-${(i * 7919) % 100_000}.jpg`;
        const classId = first + (i % 100);
        img.run(`/big/${i}/${name}`, `${i}/${name}`, name, i.toString(16).padStart(64, '0'), classId, classId, i % 10 === 0 ? 'val' : i % 10 === 1 ? 'test' : 'train');
      }
    })();
    const queries = [
      { datasetId: 900, limit: 200 },
      { datasetId: 900, limit: 200, offset: 99_000 },
      { datasetId: 900, classId: -1, limit: 200, offset: 500 },
      { datasetId: 900, split: 'val' as const, limit: 200, offset: 5000 },
      { datasetId: 900, search: '4242', limit: 200 },
      { datasetId: 900, sort: 'class' as const, limit: 200, offset: 50_000 },
    ];
    const timings: string[] = [];
    const someClass = (db.prepare(`SELECT MAX(id) AS id FROM classes WHERE dataset_id = 900`).get() as { id: number }).id;
    for (const q of queries.map((q) => ('classId' in q ? { ...q, classId: someClass } : q))) {
      await studio.call('images.list', q);
      const start = performance.now();
      const page = await studio.call('images.list', q);
      const ms = performance.now() - start;
      timings.push(`${JSON.stringify(q)} → ${page.total} in ${ms.toFixed(1)} ms`);
      expect(ms).toBeLessThan(1000);
    }
    const start = performance.now();
    await studio.call('datasets.list');
    timings.push(`datasets.list in ${(performance.now() - start).toFixed(1)} ms`);
    console.info(timings.join('\n'));
  });
});
