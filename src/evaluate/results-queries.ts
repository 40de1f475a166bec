import type { Database } from 'better-sqlite3';
import { mediaUrl } from '../api/datasets.js';
import { ApiError } from '../api/errors.js';
import type { PredictionSet, ResultImage, ResultSummary } from '../api/results.js';
import { runRow } from '../runs/run-store.js';
import { perClassMetrics } from './metrics.js';
import { predictionSet } from './predictions-store.js';

type Split = PredictionSet['split'];
type Order = 'mostConfident' | 'leastConfident';

/** The class names of a run, in label order. */
export function runClasses(db: Database, runId: number): string[] {
  return JSON.parse(runRow(db, runId).classes) as string[];
}

/** A run's prediction set for a split, or not_found saying how to make one. */
export function requireSet(db: Database, runId: number, split: Split): PredictionSet {
  runRow(db, runId);
  const set = predictionSet(db, runId, split);
  if (!set) {
    throw new ApiError('not_found', `Run ${runId} has no predictions on its ${split} split yet; compute them first (its Evaluation tab, or \`convnet eval --run ${runId} --split ${split}\`).`);
  }
  return set;
}

/** Summary of a split from stored predictions: grouped scans of two covering indexes. */
export function resultSummary(db: Database, runId: number, split: Split): ResultSummary {
  const set = requireSet(db, runId, split);
  const classes = runClasses(db, runId);
  const n = classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const cells = db.prepare('SELECT label, top1, COUNT(*) AS n FROM predictions WHERE run_id = ? AND split = ? GROUP BY label, top1').all(runId, split) as Array<{ label: number; top1: number; n: number }>;
  for (const c of cells) {
    confusion[c.label]![c.top1] = c.n;
  }
  const hits = db
    .prepare('SELECT label, SUM(correct_top5) AS top5 FROM predictions INDEXED BY predictions_hits WHERE run_id = ? AND split = ? GROUP BY label')
    .all(runId, split) as Array<{ label: number; top5: number }>;
  const top5Hits = new Map(hits.map((h) => [h.label, h.top5]));
  const perClass = perClassMetrics(confusion).map((m, label) => {
    const n = m.support;
    const top1 = confusion[label]![label]!;
    return { label, class: classes[label]!, ...m, top1Error: n ? 1 - top1 / n : null, top5Error: n ? 1 - (top5Hits.get(label) ?? 0) / n : null };
  });
  const confusionNormalized = confusion.map((row) => {
    const support = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (support ? v / support : 0));
  });
  return { ...set, classes, perClass, confusion, confusionNormalized };
}

/** A prediction row joined with its image's library state. */
export interface JoinedRow {
  image_id: number;
  split: Split;
  label: number;
  top1: number;
  top1_prob: number;
  correct_top1: number;
  correct_top5: number;
  top5: string;
  file_name: string | null;
  class_id: number | null;
  class_name: string | null;
  dataset_id: number | null;
  excluded: number | null;
}

/** Columns of a prediction joined with its image's current library state (alias p for predictions). */
export const JOINED = `p.image_id, p.split, p.label, p.top1, p.top1_prob, p.correct_top1, p.correct_top5, p.top5,
  i.file_name, i.class_id, c.name AS class_name, i.dataset_id, i.excluded`;
export const JOINS = 'LEFT JOIN images i ON i.id = p.image_id LEFT JOIN classes c ON c.id = i.class_id';

/** A joined row as the gallery's result image, with class names from the run. */
export function resultImage(r: JoinedRow, classes: string[]): ResultImage {
  const name = (label: number): string => classes[label] ?? `class ${label}`;
  return {
    id: r.image_id,
    fileName: r.file_name ?? `image ${r.image_id}`,
    thumbnail: mediaUrl.thumb(r.image_id),
    classId: r.class_id,
    className: r.class_name,
    datasetId: r.dataset_id,
    excluded: r.excluded === 1,
    split: r.split,
    trueLabel: r.label,
    trueClass: name(r.label),
    predictedLabel: r.top1,
    predictedClass: name(r.top1),
    confidence: r.top1_prob,
    correct: r.correct_top1 === 1,
    correctTop5: r.correct_top5 === 1,
    top5: (JSON.parse(r.top5) as Array<{ label: number; probability: number }>).map((t) => ({ ...t, className: name(t.label) })),
  };
}

/** Most or least confident first, in the order the confidence indexes already hold (image id breaks ties). */
function orderBy(order: Order, alias = 'p'): string {
  return order === 'mostConfident' ? `${alias}.top1_prob DESC, ${alias}.image_id DESC` : `${alias}.top1_prob ASC, ${alias}.image_id ASC`;
}

/** A page of predictions matching `where` (over alias p, with run_id and split bound first), with the total. */
function predictionPage(
  db: Database,
  runId: number,
  split: Split,
  where: string,
  params: unknown[],
  page: { order: Order; offset: number; limit: number },
): { total: number; items: ResultImage[] } {
  requireSet(db, runId, split);
  const classes = runClasses(db, runId);
  const filter = `p.run_id = ? AND p.split = ?${where ? ` AND ${where}` : ''}`;
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM predictions p WHERE ${filter}`).get(runId, split, ...params) as { n: number }).n;
  const rows = db
    .prepare(`SELECT ${JOINED} FROM predictions p ${JOINS} WHERE ${filter} ORDER BY ${orderBy(page.order)} LIMIT ? OFFSET ?`)
    .all(runId, split, ...params, page.limit, page.offset) as JoinedRow[];
  return { total, items: rows.map((r) => resultImage(r, classes)) };
}

/** The images of one confusion cell, in confidence order. */
export function cellImages(db: Database, q: { runId: number; split: Split; trueLabel: number; predictedLabel: number; order: Order; offset: number; limit: number }): { total: number; items: ResultImage[] } {
  return predictionPage(db, q.runId, q.split, 'p.label = ? AND p.top1 = ?', [q.trueLabel, q.predictedLabel], q);
}

/** Misclassified images (top-1 wrong), optionally of one true and/or predicted label, in confidence order. */
export function mistakes(
  db: Database,
  q: { runId: number; split: Split; trueLabel?: number | undefined; predictedLabel?: number | undefined; order: Order; offset: number; limit: number },
): { total: number; items: ResultImage[] } {
  const where = ['p.correct_top1 = 0'];
  const params: number[] = [];
  if (q.trueLabel !== undefined) {
    where.push('p.label = ?');
    params.push(q.trueLabel);
  }
  if (q.predictedLabel !== undefined) {
    where.push('p.top1 = ?');
    params.push(q.predictedLabel);
  }
  return predictionPage(db, q.runId, q.split, where.join(' AND '), params, q);
}

/** Where an image sits in a run's snapshot (split and label), or not_found. */
export function snapshotEntry(db: Database, runId: number, imageId: number): { split: Split; label: number } {
  runRow(db, runId);
  const row = db.prepare('SELECT split, label FROM run_images WHERE run_id = ? AND image_id = ?').get(runId, imageId) as { split: Split; label: number } | undefined;
  if (!row) {
    throw new ApiError('not_found', `Image ${imageId} is not in run ${runId}'s data.`);
  }
  return row;
}

/** One image under a run: its split and label in the run's snapshot and its stored prediction, if any. */
export function imageResult(db: Database, runId: number, imageId: number): { split: Split; trueLabel: number; trueClass: string; prediction: ResultImage | null } {
  const entry = snapshotEntry(db, runId, imageId);
  const classes = runClasses(db, runId);
  const row = db.prepare(`SELECT ${JOINED} FROM predictions p ${JOINS} WHERE p.run_id = ? AND p.split = ? AND p.image_id = ?`).get(runId, entry.split, imageId) as JoinedRow | undefined;
  return { split: entry.split, trueLabel: entry.label, trueClass: classes[entry.label] ?? `class ${entry.label}`, prediction: row ? resultImage(row, classes) : null };
}

/** The library state and snapshot label of some images of a run, by id (for neighbour lists). */
export function imagesOfRun(db: Database, runId: number, ids: number[]): Map<number, { fileName: string; classId: number | null; className: string | null; label: number }> {
  const rows = db
    .prepare(
      `SELECT r.image_id, r.label, i.file_name, i.class_id, c.name AS class_name
         FROM run_images r LEFT JOIN images i ON i.id = r.image_id LEFT JOIN classes c ON c.id = i.class_id
        WHERE r.run_id = ? AND r.image_id IN (SELECT value FROM json_each(?))`,
    )
    .all(runId, JSON.stringify(ids)) as Array<{ image_id: number; label: number; file_name: string | null; class_id: number | null; class_name: string | null }>;
  return new Map(rows.map((r) => [r.image_id, { fileName: r.file_name ?? `image ${r.image_id}`, classId: r.class_id, className: r.class_name, label: r.label }]));
}
