import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from 'better-sqlite3';
import { listImages, updateImages, type ImageQuery } from '../../../src/datasets/image-rows.js';
import { openLibrary, type Library } from '../../../src/library/open.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { makeImageFolder } from '../../helpers/image-folder.js';
import { tempDir } from '../../helpers/temp.js';
import { importAndWait } from './wait-import.js';

/** The counts the triggers keep equal the images, key by key. */
function expectCountsExact(db: Database): void {
  const kept = db.prepare('SELECT dataset_id, class_id, split, status, excluded, n, bytes FROM image_counts WHERE n != 0 ORDER BY 1, 2, 3, 4, 5').all();
  const actual = db.prepare('SELECT dataset_id, class_id, split, status, excluded, COUNT(*) AS n, SUM(size) AS bytes FROM images GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5').all();
  expect(kept).toEqual(actual);
}

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
    expectCountsExact(studio.library.db);
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

    expectCountsExact(studio.library.db);
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
    expect(detail.split).toEqual({ train: 0.5, val: 0.5, test: 0, seed: 5, given: false, valFromTrain: null });
    expect(detail.splits.test).toBe(0);
    const all = await studio.call('images.list', { datasetId, status: 'all', limit: 500 });
    const again = await studio.call('datasets.resplit', { id: datasetId, train: 0.5, val: 0.5, test: 0, seed: 5 });
    expect(again.splits).toEqual(detail.splits);
    expect((await studio.call('images.list', { datasetId, status: 'all', limit: 500 })).items).toEqual(all.items);
    expectCountsExact(studio.library.db);
    await expect(studio.call('datasets.resplit', { id: datasetId, train: 0.5, val: 0.2, test: 0.2, seed: 1 })).rejects.toThrow(/add up to 1/);
  });

  it('renames and deletes datasets (library records only)', async () => {
    expect((await studio.call('datasets.rename', { id: datasetId, name: 'insects' })).name).toBe('insects');
    expect(await studio.call('datasets.delete', { id: datasetId })).toEqual({ deleted: true });
    expect(await studio.call('datasets.list')).toEqual([]);
    expect(studio.library.db.prepare('SELECT COUNT(*) AS n FROM images').get()).toEqual({ n: 0 });
    expect(studio.library.db.prepare('SELECT COUNT(*) AS n FROM image_counts WHERE dataset_id = ?').get(datasetId)).toEqual({ n: 0 });
    await expect(studio.call('datasets.get', { id: datasetId })).rejects.toThrow(/No dataset/);
    await expect(studio.call('images.list', { datasetId })).rejects.toMatchObject({ code: 'not_found', message: `No dataset with id ${datasetId}.` });
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

describe('image counts through imports', () => {
  it('stay exact when a re-import finds a file gone and another moved to a new class', async () => {
    const t = tempDir('convnet-counts-');
    const s = openStudio({ libraryDir: path.join(t.dir, 'lib'), host: 'cli' });
    try {
      const folder = await makeImageFolder(path.join(t.dir, 'src'), { classes: { cat: 6, dog: 6 } });
      const first = (await importAndWait(s, { paths: [folder.root] })).result!.dataset;
      expectCountsExact(s.library.db);
      const cats = fs.readdirSync(path.join(folder.root, 'cat')).sort();
      fs.rmSync(path.join(folder.root, 'cat', cats[0]!));
      fs.renameSync(path.join(folder.root, 'cat', cats[1]!), path.join(folder.root, 'dog', `moved-${cats[1]!}`));
      const again = (await importAndWait(s, { paths: [folder.root] })).result!.dataset;
      expect(again.id).toBe(first.id);
      expectCountsExact(s.library.db);
      const count = (where: string): number => (s.library.db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND ${where}`).get(first.id) as { n: number }).n;
      const summary = await s.call('datasets.get', { id: first.id });
      expect(count(`status = 'missing'`)).toBeGreaterThan(0);
      expect([summary.images, summary.missing, summary.excluded]).toEqual([count(`status = 'ok' AND excluded = 0`), count(`status = 'missing'`), 0]);
      expect((await s.call('images.list', { datasetId: first.id, status: 'all' })).total).toBe(count('1'));
      expect((await s.call('images.list', { datasetId: first.id })).total).toBe(summary.images);
    } finally {
      await s.close();
      t.cleanup();
    }
  });
});

describe('images.list pages by cursor and by offset', () => {
  type Ref = { id: number; fileName: string; className: string; classId: number; split: string; size: number; status: string; excluded: number };
  let t: { dir: string; cleanup(): void };
  let lib: Library;
  const DATASET = 7;
  const ROWS = 3500;

  beforeAll(() => {
    t = tempDir('convnet-pages-');
    lib = openLibrary(path.join(t.dir, 'lib'));
    const { db } = lib;
    const now = Date.now();
    db.transaction(() => {
      db.prepare(`INSERT INTO datasets (id, name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed) VALUES (?, 'p', ?, ?, '[]', 'p', 'ready', 0.8, 0.1, 0.1, 0)`).run(DATASET, now, now);
      // Class names in an order unlike their ids.
      const cls = db.prepare('INSERT INTO classes (dataset_id, name) VALUES (?, ?)');
      const classIds = ['zebra', 'ant', 'moth', 'Bee', 'cat'].map((name) => Number(cls.run(DATASET, name).lastInsertRowid));
      const img = db.prepare(`INSERT INTO images (dataset_id, path, relative_path, file_name, sha256, size, mtime_ms, width, height, format, class_id, original_class_id, split, split_source, status, excluded, indexed_at)
                              VALUES (?, ?, ?, ?, ?, ?, 0, 8, 8, 'png', ?, ?, ?, 'auto', ?, ?, 0)`);
      for (let i = 0; i < ROWS; i++) {
        // Many equal file names (across classes and folders) and equal sizes: ties the id must break.
        const name = i % 3 === 0 ? `img_${(i * 37) % 400}.png` : `IMG-${i % 900}_x.png`;
        const classId = classIds[(i * 7) % 5]!;
        img.run(DATASET, `/p/${i}/${name}`, `${i}/${name}`, name, String(i), 1000 + (i % 23), classId, classId, ['train', 'val', 'test', 'train'][i % 4]!, i % 17 === 0 ? 'missing' : 'ok', i % 13 === 0 ? 1 : 0);
      }
    })();
  });

  afterAll(() => {
    lib.close();
    t.cleanup();
  });

  /** Every image of the dataset, read plainly, for a reference computed here. */
  function all(): Ref[] {
    return lib.db
      .prepare(`SELECT i.id, i.file_name AS fileName, c.name AS className, i.class_id AS classId, i.split, i.size, i.status, i.excluded FROM images i JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ?`)
      .all(DATASET) as Ref[];
  }

  const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);
  const ORDERS: Record<ImageQuery['sort'], (a: Ref, b: Ref) => number> = {
    name: (a, b) => cmp(a.fileName, b.fileName) || a.id - b.id,
    added: (a, b) => a.id - b.id,
    class: (a, b) => cmp(a.className, b.className) || cmp(a.fileName, b.fileName) || a.id - b.id,
    size: (a, b) => b.size - a.size || a.id - b.id,
  };

  function reference(q: Omit<ImageQuery, 'offset' | 'limit'>): number[] {
    return all()
      .filter((r) => (q.classId === undefined || r.classId === q.classId) && (q.split === undefined || r.split === q.split))
      .filter((r) => (q.status === 'ok' ? r.status === 'ok' && r.excluded === 0 : q.status === 'excluded' ? r.excluded === 1 : true))
      .filter((r) => !q.search || r.fileName.toLowerCase().includes(q.search.toLowerCase()))
      .sort(ORDERS[q.sort])
      .map((r) => r.id);
  }

  function filters(): Array<Omit<ImageQuery, 'offset' | 'limit' | 'sort'>> {
    const moth = (lib.db.prepare(`SELECT id FROM classes WHERE dataset_id = ? AND name = 'moth'`).get(DATASET) as { id: number }).id;
    return [
      { datasetId: DATASET, status: 'ok' },
      { datasetId: DATASET, status: 'all' },
      { datasetId: DATASET, status: 'excluded' },
      { datasetId: DATASET, status: 'ok', split: 'train' },
      { datasetId: DATASET, status: 'all', classId: moth },
      { datasetId: DATASET, status: 'ok', search: 'img_1' },
      { datasetId: DATASET, status: 'all', search: '_X' },
    ];
  }

  function checkAll(): void {
    for (const sort of ['name', 'added', 'class', 'size'] as const) {
      for (const f of filters()) {
        const q = { ...f, sort };
        const want = reference(q);
        const limit = 200;
        // Offsets: every page, and some that straddle the anchors (every 1024th).
        const offsets = [...Array.from({ length: Math.ceil(want.length / limit) + 1 }, (_, p) => p * limit), 1023, 1024, 1025, 2047, 3071, want.length - 1];
        for (const offset of offsets.filter((o) => o >= 0)) {
          const page = listImages(lib.db, { ...q, offset, limit });
          expect(page.total, JSON.stringify({ q, offset })).toBe(want.length);
          expect(page.items.map((i) => i.id), JSON.stringify({ q, offset })).toEqual(want.slice(offset, offset + limit));
        }
        // Scrolling on by cursor gives the same list as the offsets.
        const chained: number[] = [];
        let after: string | undefined;
        for (let offset = 0; ; offset += 150) {
          const page = listImages(lib.db, { ...q, offset, limit: 150, after });
          chained.push(...page.items.map((i) => i.id));
          if (!page.next || page.items.length < 150) {break;}
          after = page.next;
        }
        expect(chained, JSON.stringify(q)).toEqual(want);
      }
    }
  }

  it('returns, for every sort and filter, the same pages by offset (deep ones from anchors) and by cursor', () => {
    checkAll();
  });

  it('stays exact after edits: anchors are found again and stale cursors are ignored', () => {
    const q = { datasetId: DATASET, status: 'ok' as const, sort: 'class' as const, limit: 100 };
    const before = listImages(lib.db, { ...q, offset: 2000 });
    const ids = (lib.db.prepare('SELECT id FROM images WHERE dataset_id = ? AND id % 5 = 1 LIMIT 300').all(DATASET) as Array<{ id: number }>).map((r) => r.id);
    const bee = (lib.db.prepare(`SELECT id FROM classes WHERE dataset_id = ? AND name = 'Bee'`).get(DATASET) as { id: number }).id;
    updateImages(lib.db, { ids: ids.slice(0, 100), excluded: true });
    updateImages(lib.db, { ids: ids.slice(100, 200), classId: bee });
    updateImages(lib.db, { ids: ids.slice(200), split: 'val' });
    lib.db.prepare(`UPDATE classes SET name = 'aardvark' WHERE id = ?`).run(bee);
    expectCountsExact(lib.db);
    // The cursor of a page read before the edits is not trusted: the offset decides.
    const stale = listImages(lib.db, { ...q, offset: 2100, after: before.next });
    expect(stale.items.map((i) => i.id)).toEqual(reference(q).slice(2100, 2200));
    // A cursor that is not ours is ignored too.
    expect(listImages(lib.db, { ...q, offset: 2100, after: 'bm90IGEgY3Vyc29y' }).items).toEqual(stale.items);
    checkAll();
  });

  it('keeps deep pages exact through small edits made here, anchors on edited images included', () => {
    const bee = (lib.db.prepare(`SELECT id FROM classes WHERE dataset_id = ? AND name = 'aardvark'`).get(DATASET) as { id: number }).id;
    for (const sort of ['name', 'class', 'size', 'added'] as const) {
      for (const f of [{ status: 'ok' as const }, { status: 'all' as const, split: 'train' as const }]) {
        const q = { datasetId: DATASET, ...f, sort };
        const deep = (): void => {
          const want = reference(q);
          for (let offset = 1000; offset < want.length; offset += 97) {
            expect(listImages(lib.db, { ...q, offset, limit: 50 }).items.map((i) => i.id), JSON.stringify({ q, offset })).toEqual(want.slice(offset, offset + 50));
          }
        };
        deep();
        const want = reference(q);
        const at = (position: number): number => want[Math.min(position, want.length - 1)]!;
        expect(want.length).toBeGreaterThan(1600);
        // The images the anchors sit on (positions 0, 1024, 2048) and one between them leave the list...
        const leaving = [at(0), at(1024), at(2048), at(1500)];
        updateImages(lib.db, { ids: leaving, excluded: true });
        deep();
        updateImages(lib.db, { ids: [at(1024), at(2048)], split: 'val' });
        deep();
        // ...come back, and others change class (which moves them in the class order).
        updateImages(lib.db, { ids: leaving, excluded: false });
        updateImages(lib.db, { ids: [at(1024), at(2048)], split: 'train' });
        updateImages(lib.db, { ids: [at(10), at(1100), at(1600)], classId: bee });
        deep();
        expectCountsExact(lib.db);
      }
    }
  });
});
