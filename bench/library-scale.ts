import { performance } from 'node:perf_hooks';
import { openLibrary } from '../src/library/open.js';
import { openStudio } from '../src/studio.js';

/** Median and p99 in ms of one timed step, over `samples` repetitions. */
export interface Timing {
  median: number;
  p99: number;
  samples: number;
}

/** p99 (and median) in ms of opening a library and of the gallery's requests at ImageNet's size. */
export interface LibraryScaleMeasurement {
  rows: number;
  classes: number;
  fillSeconds: number;
  openMs: Timing;
  /** `images.list` offset 0, 200 images, name order (what the gallery asks first). */
  firstPageMs: Timing;
  /** The first jump to the last page after opening: the list's anchors are found on the way (one sample). */
  firstDeepJumpMs: Timing;
  /** A jump to a random page (the scroll bar dragged), by offset, with the list's anchors already found. */
  randomPageMs: Timing;
  /** The same jump right after an edit in the gallery (one image excluded, then included through images.update). */
  randomPageAfterChangeMs: Timing;
  /** The page after a random jump, with the jump's `next` as `after` (scrolling on). */
  nextPageMs: Timing;
  /** First page of a random class. */
  classPageMs: Timing;
  /** First page of a file-name search (a LIKE scan, counted once per version of the list), and the page after it. */
  searchPageMs: Timing;
  searchNextPageMs: Timing;
}

function stats(samples: number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99), samples: s.length };
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const result = await fn();
  return [performance.now() - t, result];
}

/**
 * Fills a library with `rows` synthetic image rows in `classes` classes (1.2 M and 1000 = ImageNet),
 * then times opening it and the gallery's requests as the UI makes them: the first page, a jump to a random
 * page, the page after it (by cursor), a class's first page, a jump right after an edit, and a search.
 */
export async function measureLibraryScale(dir: string, rows = 1_200_000, classes = 1000, reps = 100): Promise<LibraryScaleMeasurement> {
  const t0 = performance.now();
  const lib = openLibrary(dir);
  const { db } = lib;
  db.transaction(() => {
    const now = Date.now();
    const dataset = Number(
      db
        .prepare(
          `INSERT INTO datasets (name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed)
           VALUES ('imagenet-scale', ?, ?, '[]', 'bench', 'ready', 0.8, 0.1, 0.1, 0)`,
        )
        .run(now, now).lastInsertRowid,
    );
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
       INSERT INTO classes (dataset_id, name) SELECT ?, printf('n%08d', i) FROM n`,
    ).run(classes, dataset);
    const firstClass = (db.prepare('SELECT MIN(id) AS id FROM classes WHERE dataset_id = ?').get(dataset) as { id: number }).id;
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
       INSERT INTO images (dataset_id, path, relative_path, file_name, sha256, size, mtime_ms, width, height, format,
                           class_id, original_class_id, split, split_source, indexed_at)
       SELECT ?, printf('/data/imagenet/%d/img_%08d.JPEG', i % ?, i), printf('%d/img_%08d.JPEG', i % ?, i), printf('img_%08d.JPEG', i),
              printf('%064x', i), 110000 + i % 50000, ?, 500, 375, 'jpeg',
              ? + i % ?, ? + i % ?, CASE WHEN i % 10 = 0 THEN 'val' WHEN i % 10 = 1 THEN 'test' ELSE 'train' END, 'auto', ?
       FROM n`,
    ).run(rows, dataset, classes, classes, now, firstClass, classes, firstClass, classes, now);
  })();
  db.pragma('optimize');
  lib.close();
  const fillSeconds = (performance.now() - t0) / 1000;

  const open: number[] = [];
  for (let r = 0; r < Math.min(reps, 30); r++) {
    open.push(time(() => openLibrary(dir).close()));
  }
  // The gallery's requests, through the same handler (validation, dataset check, listImages) the UI calls.
  const studio = openStudio({ libraryDir: dir, host: 'cli' });
  try {
    const { db } = studio.library;
    const datasetId = (db.prepare('SELECT id FROM datasets LIMIT 1').get() as { id: number }).id;
    const classIds = (db.prepare('SELECT id FROM classes WHERE dataset_id = ?').all(datasetId) as Array<{ id: number }>).map((c) => c.id);
    const someImage = (db.prepare('SELECT id FROM images WHERE dataset_id = ? LIMIT 1').get(datasetId) as { id: number }).id;
    const page = 200;
    const base = { datasetId, limit: page };
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const randomOffset = (): number => rand(Math.floor(rows / page)) * page;
    const list = (input: Parameters<typeof studio.call<'images.list'>>[1]) => timeAsync(() => studio.call('images.list', input));
    const first: number[] = [];
    const random: number[] = [];
    const afterChange: number[] = [];
    const next: number[] = [];
    const byClass: number[] = [];
    const search: number[] = [];
    const searchNext: number[] = [];
    const [deepMs] = await list({ ...base, offset: (Math.ceil(rows / page) - 1) * page });
    for (let r = 0; r < reps; r++) {
      first.push((await list({ ...base, offset: 0 }))[0]);
      const offset = randomOffset();
      const [ms, jump] = await list({ ...base, offset });
      random.push(ms);
      const [nextMs, following] = await list({ ...base, offset: offset + page, ...(jump.next ? { after: jump.next } : {}) });
      next.push(nextMs);
      if (following.items[0]?.id === jump.items[0]?.id) {throw new Error('the next page repeated the jump');}
      byClass.push((await list({ ...base, classId: classIds[rand(classIds.length)]!, offset: 0 }))[0]);
    }
    for (let r = 0; r < Math.min(reps, 20); r++) {
      await studio.call('images.update', { ids: [someImage], excluded: true });
      await studio.call('images.update', { ids: [someImage], excluded: false });
      afterChange.push((await list({ ...base, offset: randomOffset() }))[0]);
      const term = String(rand(10_000)).padStart(4, '0');
      const [searchMs, hits] = await list({ ...base, search: term, offset: 0 });
      search.push(searchMs);
      searchNext.push((await list({ ...base, search: term, offset: page, ...(hits.next ? { after: hits.next } : {}) }))[0]);
    }
    return {
      rows,
      classes,
      fillSeconds,
      openMs: stats(open),
      firstPageMs: stats(first),
      firstDeepJumpMs: stats([deepMs]),
      randomPageMs: stats(random),
      randomPageAfterChangeMs: stats(afterChange),
      nextPageMs: stats(next),
      classPageMs: stats(byClass),
      searchPageMs: stats(search),
      searchNextPageMs: stats(searchNext),
    };
  } finally {
    await studio.close();
  }
}
