import type { Database } from 'better-sqlite3';
import type { PredictionSet } from '../api/results.js';
import { topK } from './metrics.js';

/** The per-image outputs of one pass: ids and true labels aligned with [images × classes] probabilities. */
export interface PassOutputs {
  ids: ArrayLike<number>;
  labels: ArrayLike<number>;
  probs: Float32Array;
  numClasses: number;
}

/** One row of `predictions`, as written. */
export interface PredictionRow {
  imageId: number;
  label: number;
  top1: number;
  top1Prob: number;
  correctTop1: boolean;
  correctTop5: boolean;
  top5: Array<{ label: number; probability: number }>;
}

/** Turns one image's probability row into its stored prediction. */
export function predictionOf(imageId: number, label: number, row: ArrayLike<number>): PredictionRow {
  const best = topK(row, 5);
  const top5 = best.map((c) => ({ label: c, probability: Math.round(row[c]! * 1e6) / 1e6 }));
  return {
    imageId,
    label,
    top1: best[0]!,
    top1Prob: row[best[0]!]!,
    correctTop1: best[0] === label,
    correctTop5: best.includes(label),
    top5,
  };
}

/** Replaces a (run, split)'s predictions and its prediction_sets row in one transaction. */
export function storePredictions(db: Database, set: PredictionSet, out: PassOutputs): void {
  const rows: PredictionRow[] = [];
  for (let i = 0; i < out.ids.length; i++) {
    rows.push(predictionOf(out.ids[i]!, out.labels[i]!, out.probs.subarray(i * out.numClasses, (i + 1) * out.numClasses)));
  }
  writePredictionRows(db, set, rows);
}

/** Writes already-made prediction rows (the benchmark's fake ones too) with their set row. */
export function writePredictionRows(db: Database, set: PredictionSet, rows: PredictionRow[]): void {
  const insert = db.prepare(
    `INSERT INTO predictions (run_id, split, image_id, label, top1, top1_prob, correct_top1, correct_top5, top5)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    db.prepare('DELETE FROM predictions WHERE run_id = ? AND split = ?').run(set.runId, set.split);
    for (const r of rows) {
      insert.run(set.runId, set.split, r.imageId, r.label, r.top1, r.top1Prob, r.correctTop1 ? 1 : 0, r.correctTop5 ? 1 : 0, JSON.stringify(r.top5));
    }
    db.prepare(
      `INSERT OR REPLACE INTO prediction_sets (run_id, split, ten_crop, images, loss, top1_error, top5_error, feature_dim, epoch, backend, computed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(set.runId, set.split, set.tenCrop ? 1 : 0, set.images, set.loss, set.top1Error, set.top5Error, set.featureDim, set.epoch, set.backend, set.computedAt);
  }).immediate();
}

interface SetRow {
  run_id: number;
  split: PredictionSet['split'];
  ten_crop: number;
  images: number;
  loss: number;
  top1_error: number;
  top5_error: number;
  feature_dim: number;
  epoch: number;
  backend: string;
  computed_at: number;
}

function setOf(r: SetRow): PredictionSet {
  return {
    runId: r.run_id,
    split: r.split,
    tenCrop: r.ten_crop === 1,
    images: r.images,
    loss: r.loss,
    top1Error: r.top1_error,
    top5Error: r.top5_error,
    featureDim: r.feature_dim,
    epoch: r.epoch,
    backend: r.backend,
    computedAt: r.computed_at,
  };
}

/** The prediction sets stored for a run, in split order train, val, test. */
export function predictionSets(db: Database, runId: number): PredictionSet[] {
  return (db.prepare('SELECT * FROM prediction_sets WHERE run_id = ? ORDER BY split').all(runId) as SetRow[]).map(setOf);
}

/** One (run, split)'s prediction set, or null when none was computed. */
export function predictionSet(db: Database, runId: number, split: PredictionSet['split']): PredictionSet | null {
  const row = db.prepare('SELECT * FROM prediction_sets WHERE run_id = ? AND split = ?').get(runId, split) as SetRow | undefined;
  return row ? setOf(row) : null;
}
