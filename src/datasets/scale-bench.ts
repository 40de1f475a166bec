import { performance } from 'node:perf_hooks';
import { openLibrary } from '../library/open.js';
import { listImages } from './images.js';

/** p99 (and median) in ms of opening a library and of gallery queries at ImageNet's size. */
export interface LibraryScaleMeasurement {
  rows: number;
  classes: number;
  fillSeconds: number;
  openMs: { median: number; p99: number };
  firstPageMs: { median: number; p99: number };
  randomPageMs: { median: number; p99: number };
  classPageMs: { median: number; p99: number };
}

function stats(samples: number[]): { median: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99) };
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/**
 * Fills a library with `rows` synthetic image rows in `classes` classes (1.2 M and 1000 = ImageNet),
 * then times opening it and the gallery's queries (first page, random pages, a class-filtered page).
 */
export function measureLibraryScale(dir: string, rows = 1_200_000, classes = 1000, reps = 100): LibraryScaleMeasurement {
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
  const library = openLibrary(dir);
  try {
    const datasetId = (library.db.prepare('SELECT id FROM datasets LIMIT 1').get() as { id: number }).id;
    const classIds = (library.db.prepare('SELECT id FROM classes WHERE dataset_id = ?').all(datasetId) as Array<{ id: number }>).map((c) => c.id);
    const base = { datasetId, status: 'ok' as const, limit: 200, sort: 'name' as const };
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const first: number[] = [];
    const random: number[] = [];
    const byClass: number[] = [];
    for (let r = 0; r < reps; r++) {
      first.push(time(() => listImages(library.db, { ...base, offset: 0 })));
      random.push(time(() => listImages(library.db, { ...base, offset: rand(rows - 200) })));
      byClass.push(time(() => listImages(library.db, { ...base, classId: classIds[rand(classIds.length)]!, offset: 0 })));
    }
    return { rows, classes, fillSeconds, openMs: stats(open), firstPageMs: stats(first), randomPageMs: stats(random), classPageMs: stats(byClass) };
  } finally {
    library.close();
  }
}
