import type { Database } from 'better-sqlite3';
import type { ClassSummary, ColourStats, DatasetDetail, DatasetSummary, ImportResult, SplitCounts, SplitName } from '../api/datasets.js';
import { datasetRow, type DatasetRow } from './store.js';

/** Classes with fewer usable images than this get a warning. */
export const FEW_IMAGES = 10;
/** Largest/smallest class ratio above which the dataset gets an imbalance warning. */
export const IMBALANCE_RATIO = 10;
/** Validation images per class below which the validation error is too coarse to choose a best epoch or a plateau. */
export const VAL_PER_CLASS = 5;
/** And the fewest validation images in all (a 2-class set still needs steps finer than 10 %). */
export const MIN_VAL_IMAGES = 20;

/** The smallest validation split that counts as useful for a dataset of `classes` classes. */
export function usefulValidationSize(classes: number): number {
  return Math.max(MIN_VAL_IMAGES, VAL_PER_CLASS * classes);
}

/** What fixes a missing or too small validation split, in the UI and the CLI: the share of train+val that gives `needed` images. */
function validationFix(datasetId: number, needed: number, pool: number): string {
  const percent = Math.max(10, Math.ceil((100 * needed) / Math.max(1, pool)));
  if (percent > 50) {
    return `Add images: with ${plural(pool, 'training image')} no validation share gives ${needed}.`;
  }
  return `Carve a validation split out of the training images: Re-split… on the dataset in the Library (Validation from train: ${percent} %), or \`convnet resplit ${datasetId} --val-from-train ${percent}\`.`;
}

interface ClassCount {
  classId: number;
  name: string;
  split: SplitName;
  n: number;
  bytes: number;
}

function emptySplits(): SplitCounts {
  return { train: 0, val: 0, test: 0 };
}

/** Usable (present, not excluded) image counts per class and split, for one dataset or all (from the counts triggers keep). */
function classCounts(db: Database, datasetId?: number): Map<number, ClassCount[]> {
  const rows = db
    .prepare(
      `SELECT k.dataset_id AS datasetId, k.class_id AS classId, c.name, k.split, k.n, k.bytes
       FROM image_counts k JOIN classes c ON c.id = k.class_id
       WHERE k.status = 'ok' AND k.excluded = 0 AND k.n > 0 ${datasetId === undefined ? '' : 'AND k.dataset_id = ?'}`,
    )
    .all(...(datasetId === undefined ? [] : [datasetId])) as Array<ClassCount & { datasetId: number }>;
  const byDataset = new Map<number, ClassCount[]>();
  for (const row of rows) {
    const list = byDataset.get(row.datasetId) ?? [];
    list.push(row);
    byDataset.set(row.datasetId, list);
  }
  return byDataset;
}

/** Per-class totals and split counts from grouped rows. */
function perClass(rows: readonly ClassCount[]): Map<number, { name: string; count: number; splitCounts: SplitCounts }> {
  const classes = new Map<number, { name: string; count: number; splitCounts: SplitCounts }>();
  for (const row of rows) {
    const entry = classes.get(row.classId) ?? { name: row.name, count: 0, splitCounts: emptySplits() };
    entry.count += row.n;
    entry.splitCounts[row.split] += row.n;
    classes.set(row.classId, entry);
  }
  return classes;
}

function plural(n: number, word: string): string {
  const many = /(s|x|z|ch|sh)$/.test(word) ? `${word}es` : `${word}s`;
  return `${n} ${n === 1 ? word : many}`;
}

/** Sentences a user should read before training on this dataset. */
export function datasetWarnings(
  datasetId: number,
  classes: ReadonlyArray<{ name: string; count: number }>,
  splits: SplitCounts,
  state: DatasetSummary['state'],
  counts: { skipped: number; missing: number },
): string[] {
  const warnings: string[] = [];
  if (state === 'incomplete') {warnings.push('The last import did not finish; import the same sources again to complete it.');}
  const used = classes.filter((c) => c.count > 0).sort((a, b) => a.count - b.count);
  if (used.length === 1) {warnings.push(`Only one class (${used[0]!.name}): a classifier needs at least two.`);}
  const few = used.filter((c) => c.count < FEW_IMAGES);
  if (few.length > 0) {
    const shown = few.slice(0, 5).map((c) => `${c.name} (${c.count})`).join(', ');
    warnings.push(`${plural(few.length, 'class')} ${few.length === 1 ? 'has' : 'have'} fewer than ${FEW_IMAGES} images: ${shown}${few.length > 5 ? ', …' : ''}.`);
  }
  if (used.length >= 2) {
    const smallest = used[0]!;
    const largest = used[used.length - 1]!;
    if (largest.count / smallest.count > IMBALANCE_RATIO) {
      warnings.push(`Heavy class imbalance: ${largest.name} has ${largest.count} images, ${smallest.name} ${smallest.count} (${Math.round(largest.count / smallest.count)}×).`);
    }
  }
  const total = splits.train + splits.val + splits.test;
  if (total > 0 && splits.train === 0) {warnings.push('No training images.');}
  if (total > 0 && splits.val === 0) {
    warnings.push(`No validation images: training cannot measure validation error, so the learning rate is never lowered on a plateau and no best epoch is chosen. ${validationFix(datasetId, usefulValidationSize(used.length), splits.train)}`);
  } else if (total > 0 && splits.val < usefulValidationSize(used.length)) {
    const step = Math.round(1000 / splits.val) / 10;
    warnings.push(
      `Only ${plural(splits.val, 'validation image')} (at least ${usefulValidationSize(used.length)} are useful for ${plural(used.length, 'class')}): validation error moves in steps of ${step} %, too coarse to choose the best epoch or to lower the learning rate on a plateau. ${validationFix(datasetId, usefulValidationSize(used.length), splits.train + splits.val)}`,
    );
  }
  if (counts.missing > 0) {warnings.push(`${plural(counts.missing, 'source file')} ${counts.missing === 1 ? 'is' : 'are'} missing or broken (gone at the last import, or found not to decode); they are left out of training.`);}
  if (counts.skipped > 0) {warnings.push(`${plural(counts.skipped, 'file')} skipped by the import (see the list).`);}
  return warnings;
}

/** Which dataset states to report: 'importing' only while this process runs the import. */
export type RunningImports = (datasetId: number) => boolean;

function stateOf(row: DatasetRow, running: RunningImports): DatasetSummary['state'] {
  if (row.state === 'importing' && !running(row.id)) {return 'incomplete';}
  return row.state;
}

function statusCounts(db: Database, datasetId?: number): Map<number, { skipped: number; duplicates: number; excluded: number; missing: number }> {
  const where = datasetId === undefined ? '' : 'WHERE dataset_id = ?';
  const args = datasetId === undefined ? [] : [datasetId];
  const result = new Map<number, { skipped: number; duplicates: number; excluded: number; missing: number }>();
  const get = (id: number) => result.get(id) ?? (result.set(id, { skipped: 0, duplicates: 0, excluded: 0, missing: 0 }).get(id)!);
  for (const r of db.prepare(`SELECT dataset_id AS id, COUNT(*) AS n, SUM(kind = 'duplicate') AS d FROM import_skips ${where} GROUP BY dataset_id`).all(...args) as Array<{ id: number; n: number; d: number }>) {
    Object.assign(get(r.id), { skipped: r.n, duplicates: r.d });
  }
  const countsWhere = datasetId === undefined ? '' : 'AND k.dataset_id = ?';
  for (const r of db.prepare(`SELECT k.dataset_id AS id, SUM(CASE WHEN k.excluded = 1 AND k.status = 'ok' THEN k.n ELSE 0 END) AS e, SUM(CASE WHEN k.status = 'missing' THEN k.n ELSE 0 END) AS m FROM image_counts k WHERE (k.excluded = 1 OR k.status = 'missing') ${countsWhere} GROUP BY k.dataset_id`).all(...args) as Array<{ id: number; e: number; m: number }>) {
    Object.assign(get(r.id), { excluded: r.e, missing: r.m });
  }
  return result;
}

function summarise(row: DatasetRow, rows: readonly ClassCount[], counts: { skipped: number; missing: number }, running: RunningImports): DatasetSummary {
  const classes = [...perClass(rows).values()];
  const splits = emptySplits();
  let bytes = 0;
  for (const r of rows) {
    splits[r.split] += r.n;
    bytes += r.bytes;
  }
  const sizes = classes.map((c) => c.count);
  const state = stateOf(row, running);
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    sourcePaths: JSON.parse(row.source_paths) as string[],
    images: splits.train + splits.val + splits.test,
    classes: classes.length,
    splits,
    balance: { smallest: sizes.length ? Math.min(...sizes) : 0, largest: sizes.length ? Math.max(...sizes) : 0 },
    sizeBytes: bytes,
    state,
    warnings: datasetWarnings(row.id, classes, splits, state, counts),
  };
}

/** Every dataset's summary, newest first. */
export function listDatasets(db: Database, running: RunningImports): DatasetSummary[] {
  const rows = db.prepare('SELECT * FROM datasets ORDER BY id DESC').all() as DatasetRow[];
  const counts = classCounts(db);
  const status = statusCounts(db);
  return rows.map((row) => summarise(row, counts.get(row.id) ?? [], status.get(row.id) ?? { skipped: 0, missing: 0 }, running));
}

/** One dataset in full, or undefined. */
export function datasetDetail(db: Database, id: number, running: RunningImports): DatasetDetail | undefined {
  const row = datasetRow(db, id);
  if (!row) {return undefined;}
  const rows = classCounts(db, id).get(id) ?? [];
  const status = statusCounts(db, id).get(id) ?? { skipped: 0, duplicates: 0, excluded: 0, missing: 0 };
  const counted = perClass(rows);
  const classList: ClassSummary[] = (db.prepare('SELECT id, name FROM classes WHERE dataset_id = ? ORDER BY name').all(id) as Array<{ id: number; name: string }>).map(
    (c) => ({ id: c.id, name: c.name, count: counted.get(c.id)?.count ?? 0, splitCounts: counted.get(c.id)?.splitCounts ?? emptySplits() }),
  );
  return {
    ...summarise(row, rows, status, running),
    classList,
    split: { train: row.split_train, val: row.split_val, test: row.split_test, seed: row.split_seed, given: row.split_given === 1, valFromTrain: row.val_carved ? row.val_from_train : null },
    colourStats: row.colour_stats ? (JSON.parse(row.colour_stats) as ColourStats) : null,
    ...status,
  };
}

/** The result of an import, in the CLI's `--json` shape: classes with counts, splits, every skipped file. */
export function importResult(db: Database, id: number): ImportResult {
  const row = datasetRow(db, id)!;
  const classes = [...perClass(classCounts(db, id).get(id) ?? []).values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const splits = emptySplits();
  for (const c of classes) {
    splits.train += c.splitCounts.train;
    splits.val += c.splitCounts.val;
    splits.test += c.splitCounts.test;
  }
  const skipped = db.prepare('SELECT path, reason FROM import_skips WHERE dataset_id = ? ORDER BY path').all(id) as Array<{ path: string; reason: string }>;
  return {
    dataset: { id, name: row.name, images: splits.train + splits.val + splits.test, classes: classes.map((c) => ({ name: c.name, count: c.count })), splits },
    skipped,
  };
}
