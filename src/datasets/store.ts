import type { Database } from 'better-sqlite3';
import type { SplitName } from '../api/datasets.js';
import { DEFAULT_SPLIT, DEFAULT_VAL_FROM_TRAIN, stratifiedSplit, type SplitFractions } from './split.js';

/** The dataset row as the engine reads it. */
export interface DatasetRow {
  id: number;
  name: string;
  created_at: number;
  updated_at: number;
  source_paths: string;
  source_key: string;
  state: 'ready' | 'importing' | 'incomplete';
  split_train: number;
  split_val: number;
  split_test: number;
  split_seed: number;
  split_given: number;
  /** Share of given training images carved out as validation when the source gives none (0: never). */
  val_from_train: number;
  /** 1 when the validation split was carved from the given training split. */
  val_carved: number;
  colour_stats: string | null;
}

/** The key that finds the dataset a re-import of the same sources updates. */
export function sourceKey(paths: readonly string[]): string {
  return [...new Set(paths)].sort().join('\0');
}

/** Reads one dataset row, or undefined. */
export function datasetRow(db: Database, id: number): DatasetRow | undefined {
  return db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
}

/** Creates (or reopens for re-import) the dataset an import writes into, marked 'importing'. */
export function beginImportDataset(
  db: Database,
  request: {
    paths: string[];
    name?: string | undefined;
    split?: (SplitFractions & { seed: number }) | undefined;
    valFromTrain?: number | undefined;
    datasetId?: number | undefined;
  },
): { row: DatasetRow; created: boolean } {
  return db.transaction(() => {
    const now = Date.now();
    const key = sourceKey(request.paths);
    const existing = request.datasetId
      ? datasetRow(db, request.datasetId)
      : (db.prepare('SELECT * FROM datasets WHERE source_key = ? ORDER BY id DESC LIMIT 1').get(key) as DatasetRow | undefined);
    if (request.datasetId && !existing) {
      throw new Error(`No dataset with id ${request.datasetId}.`);
    }
    if (existing) {
      const split = request.split;
      db.prepare(
        `UPDATE datasets SET state = 'importing', updated_at = ?, name = COALESCE(?, name),
           split_train = COALESCE(?, split_train), split_val = COALESCE(?, split_val), split_test = COALESCE(?, split_test), split_seed = COALESCE(?, split_seed),
           val_from_train = COALESCE(?, val_from_train)
         WHERE id = ?`,
      ).run(now, request.name ?? null, split?.train ?? null, split?.val ?? null, split?.test ?? null, split?.seed ?? null, request.valFromTrain ?? null, existing.id);
      return { row: datasetRow(db, existing.id)!, created: false };
    }
    const split = request.split ?? DEFAULT_SPLIT;
    const name = request.name ?? defaultName(request.paths);
    const info = db
      .prepare(
        `INSERT INTO datasets (name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed, val_from_train)
         VALUES (?, ?, ?, ?, ?, 'importing', ?, ?, ?, ?, ?)`,
      )
      .run(name, now, now, JSON.stringify(request.paths), key, split.train, split.val, split.test, split.seed, request.valFromTrain ?? DEFAULT_VAL_FROM_TRAIN);
    return { row: datasetRow(db, Number(info.lastInsertRowid))!, created: true };
  }).immediate();
}

function defaultName(paths: readonly string[]): string {
  const first = paths[0] ?? 'dataset';
  const base = first.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || 'dataset';
  const name = base.replace(/\.(csv|tsv)$/i, '');
  return paths.length > 1 ? `${name} + ${paths.length - 1} more` : name;
}

/**
 * Carves the validation split out of the given training split when the source gives train (and maybe test) but
 * no validation images, and every usable image's split came from the source or a user: the given training images
 * become 'auto' and the dataset's fractions train/val/test = (1 − share)/share/0, so applyAutoSplits (which must
 * follow, in the same transaction) assigns a seeded, stratified share of each class to val. Given test images are
 * never touched. Records whether it applies (`val_carved`); returns true when it does.
 */
export function carveValidation(db: Database, datasetId: number): boolean {
  const row = datasetRow(db, datasetId);
  if (!row) {return false;}
  const counts = db
    .prepare(`SELECT split_source AS source, split, COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'ok' GROUP BY split_source, split`)
    .all(datasetId) as Array<{ source: 'given' | 'auto' | 'manual'; split: SplitName; n: number }>;
  const count = (source: string, split?: SplitName): number =>
    counts.filter((c) => c.source === source && (split === undefined || c.split === split)).reduce((sum, c) => sum + c.n, 0);
  const carve = row.val_from_train > 0 && count('given', 'train') > 0 && count('given', 'val') === 0 && count('auto') === 0;
  if (!carve) {
    if (row.val_carved) {db.prepare('UPDATE datasets SET val_carved = 0 WHERE id = ?').run(datasetId);}
    return false;
  }
  db.prepare(`UPDATE images SET split_source = 'auto' WHERE dataset_id = ? AND split_source = 'given' AND split = 'train'`).run(datasetId);
  db.prepare('UPDATE datasets SET split_train = ?, split_val = ?, split_test = 0, val_carved = 1 WHERE id = ?').run(1 - row.val_from_train, row.val_from_train, datasetId);
  return true;
}

/** Re-runs the stratified split for every image whose split is 'auto'; returns how many moved. */
export function applyAutoSplits(db: Database, datasetId: number): number {
  const row = datasetRow(db, datasetId);
  if (!row) {return 0;}
  const items = db
    .prepare(`SELECT id, class_id AS classId, sha256, split FROM images WHERE dataset_id = ? AND split_source = 'auto'`)
    .all(datasetId) as Array<{ id: number; classId: number; sha256: string; split: SplitName }>;
  const assigned = stratifiedSplit(items, { train: row.split_train, val: row.split_val, test: row.split_test }, row.split_seed);
  const update = db.prepare('UPDATE images SET split = ? WHERE id = ?');
  let moved = 0;
  for (const item of items) {
    const split = assigned.get(item.id)!;
    if (split !== item.split) {
      update.run(split, item.id);
      moved++;
    }
  }
  const notGiven = db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'ok' AND split_source != 'given'`).get(datasetId) as { n: number };
  const total = db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND status = 'ok'`).get(datasetId) as { n: number };
  db.prepare('UPDATE datasets SET split_given = ? WHERE id = ?').run(total.n > 0 && notGiven.n === 0 ? 1 : 0, datasetId);
  return moved;
}

/** Removes classes no image refers to any more (after re-imports and relabels). */
export function pruneEmptyClasses(db: Database, datasetId: number): void {
  db.prepare(
    `DELETE FROM classes WHERE dataset_id = ? AND NOT EXISTS (SELECT 1 FROM images WHERE images.class_id = classes.id)
       AND NOT EXISTS (SELECT 1 FROM images WHERE images.original_class_id = classes.id)`,
  ).run(datasetId);
}

/** Appends one line to the library's journal. */
export function journal(db: Database, kind: string, message: string): void {
  db.prepare('INSERT INTO journal (time, kind, message) VALUES (?, ?, ?)').run(Date.now(), kind, message);
}
