import type { Database } from 'better-sqlite3';
import { ApiError } from '../api/errors.js';
import type { PredictionSet, ResultImage } from '../api/results.js';
import { JOINED, JOINS, requireSet, resultImage, runClasses, type JoinedRow } from './results-queries.js';

type Split = PredictionSet['split'];

type Side = [imageId: number, label: number, correct: number, confidence: number];

/** One run's (image, label, hit, confidence) on a split, in image order; read from the cell index alone (a top-1 hit is top1 = label). */
function sideOf(db: Database, runId: number, split: Split): Side[] {
  const rows = db
    .prepare('SELECT image_id, label, top1 = label, top1_prob FROM predictions INDEXED BY predictions_cell WHERE run_id = ? AND split = ?')
    .raw()
    .all(runId, split) as Side[];
  return rows.sort((x, y) => x[0] - y[0]);
}

/** Counts of the four agreement cases of two runs on a split. */
export interface CompareCounts {
  aRightBWrong: number;
  aWrongBRight: number;
  bothRight: number;
  bothWrong: number;
}

/**
 * Images one run gets right (top-1) and the other wrong, ordered by the wrong run's confidence, most
 * confident first. Both runs must have evaluated the same images with the same labels on the split
 * (training data may differ: comparing a run before and after a fix of the training labels is the
 * point); otherwise it refuses, saying what differs. Two ordered scans merged here cost a fraction of a
 * self-join in SQLite.
 */
export function compareRuns(
  db: Database,
  q: { runA: number; runB: number; split: Split; which: 'aRightBWrong' | 'aWrongBRight'; offset: number; limit: number },
): { counts: CompareCounts; total: number; items: Array<{ a: ResultImage; b: ResultImage }> } {
  requireSet(db, q.runA, q.split);
  requireSet(db, q.runB, q.split);
  const classes = runClasses(db, q.runA);
  const classesB = runClasses(db, q.runB);
  if (JSON.stringify(classes) !== JSON.stringify(classesB)) {
    throw new ApiError('conflict', `Runs ${q.runA} and ${q.runB} classify different classes (${classes.length} vs ${classesB.length}); compare runs trained on the same dataset.`);
  }
  const a = sideOf(db, q.runA, q.split);
  const b = sideOf(db, q.runB, q.split);
  const same = a.length === b.length && a.every((x, i) => x[0] === b[i]![0] && x[1] === b[i]![1]);
  if (!same) {
    const inB = new Map(b.map((x) => [x[0], x[1]]));
    const differ = a.filter((x) => inB.get(x[0]) !== x[1]).length + Math.max(0, b.length - a.length);
    throw new ApiError(
      'conflict',
      `Runs ${q.runA} and ${q.runB} were not evaluated on the same ${q.split} images (${a.length} vs ${b.length}; at least ${Math.max(1, differ)} differ in image or label): their dataset snapshots differ. Compare runs whose ${q.split} split is the same.`,
    );
  }
  const counts: CompareCounts = { aRightBWrong: 0, aWrongBRight: 0, bothRight: 0, bothWrong: 0 };
  const aRight = q.which === 'aRightBWrong';
  const chosen: Array<{ id: number; wrongConfidence: number }> = [];
  a.forEach((x, i) => {
    const y = b[i]!;
    const key = x[2] ? (y[2] ? 'bothRight' : 'aRightBWrong') : y[2] ? 'aWrongBRight' : 'bothWrong';
    counts[key]++;
    if (key === q.which) {
      chosen.push({ id: x[0], wrongConfidence: aRight ? y[3] : x[3] });
    }
  });
  chosen.sort((u, v) => v.wrongConfidence - u.wrongConfidence || u.id - v.id);
  const page = chosen.slice(q.offset, q.offset + q.limit).map((c) => c.id);
  const rowsOf = (runId: number): Map<number, ResultImage> => {
    const rows = db
      .prepare(`SELECT ${JOINED} FROM predictions p ${JOINS} WHERE p.run_id = ? AND p.split = ? AND p.image_id IN (SELECT value FROM json_each(?))`)
      .all(runId, q.split, JSON.stringify(page)) as JoinedRow[];
    return new Map(rows.map((r) => [r.image_id, resultImage(r, classes)]));
  };
  const [pa, pb] = [rowsOf(q.runA), rowsOf(q.runB)];
  return { counts, total: chosen.length, items: page.map((id) => ({ a: pa.get(id)!, b: pb.get(id)! })) };
}
