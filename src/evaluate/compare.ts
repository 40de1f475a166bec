import type { Database } from 'better-sqlite3';
import { ApiError } from '../api/errors.js';
import type { PredictionSet, ResultImage } from '../api/results.js';
import { requireSet, resultImage, runClasses, type JoinedRow } from './results-queries.js';

type Split = PredictionSet['split'];

/**
 * Refuses two runs that did not evaluate the same images with the same labels on a split (other
 * datasets, another split, a relabel between them), saying what differs. Training data may differ:
 * comparing a run before and after a fix of the training labels is the point.
 */
export function requireSameSplit(db: Database, runA: number, runB: number, split: Split): void {
  const a = requireSet(db, runA, split);
  const b = requireSet(db, runB, split);
  const classesA = runClasses(db, runA);
  const classesB = runClasses(db, runB);
  if (JSON.stringify(classesA) !== JSON.stringify(classesB)) {
    throw new ApiError('conflict', `Runs ${runA} and ${runB} classify different classes (${classesA.length} vs ${classesB.length}); compare runs trained on the same dataset.`);
  }
  const differing = (x: number, y: number): number =>
    (
      db
        .prepare(
          `SELECT COUNT(*) AS n FROM predictions x
            WHERE x.run_id = ? AND x.split = ?
              AND NOT EXISTS (SELECT 1 FROM predictions y WHERE y.run_id = ? AND y.split = x.split AND y.image_id = x.image_id AND y.label = x.label)`,
        )
        .get(x, split, y) as { n: number }
    ).n;
  const onlyA = differing(runA, runB);
  const onlyB = differing(runB, runA);
  if (onlyA || onlyB) {
    throw new ApiError(
      'conflict',
      `Runs ${runA} and ${runB} were not evaluated on the same ${split} images (${a.images} vs ${b.images}; ${onlyA + onlyB} differ in image or label): their dataset snapshots differ. Compare runs whose ${split} split is the same.`,
    );
  }
}

/** Counts of the four agreement cases of two runs on a split. */
export interface CompareCounts {
  aRightBWrong: number;
  aWrongBRight: number;
  bothRight: number;
  bothWrong: number;
}

const SIDE = (x: string): string => `${x}.top1 AS ${x}_top1, ${x}.top1_prob AS ${x}_prob, ${x}.correct_top1 AS ${x}_c1, ${x}.correct_top5 AS ${x}_c5, ${x}.top5 AS ${x}_top5`;

/** Images one run gets right (top-1) and the other wrong, ordered by the wrong run's confidence, most confident first. */
export function compareRuns(
  db: Database,
  q: { runA: number; runB: number; split: Split; which: 'aRightBWrong' | 'aWrongBRight'; offset: number; limit: number },
): { counts: CompareCounts; total: number; items: Array<{ a: ResultImage; b: ResultImage }> } {
  requireSameSplit(db, q.runA, q.runB, q.split);
  const pair = 'FROM predictions a JOIN predictions b ON b.run_id = ? AND b.split = a.split AND b.image_id = a.image_id';
  const where = 'WHERE a.run_id = ? AND a.split = ?';
  const c = db
    .prepare(
      `SELECT SUM(a.correct_top1 = 1 AND b.correct_top1 = 0) AS ab, SUM(a.correct_top1 = 0 AND b.correct_top1 = 1) AS ba,
              SUM(a.correct_top1 = 1 AND b.correct_top1 = 1) AS both, SUM(a.correct_top1 = 0 AND b.correct_top1 = 0) AS neither ${pair} ${where}`,
    )
    .get(q.runB, q.runA, q.split) as { ab: number | null; ba: number | null; both: number | null; neither: number | null };
  const counts = { aRightBWrong: c.ab ?? 0, aWrongBRight: c.ba ?? 0, bothRight: c.both ?? 0, bothWrong: c.neither ?? 0 };
  const aRight = q.which === 'aRightBWrong';
  const wrong = aRight ? 'b' : 'a';
  const rows = db
    .prepare(
      `SELECT a.image_id, a.split, a.label, ${SIDE('a')}, ${SIDE('b')}, i.file_name, i.class_id, c.name AS class_name, i.dataset_id, i.excluded
         ${pair} LEFT JOIN images i ON i.id = a.image_id LEFT JOIN classes c ON c.id = i.class_id ${where}
          AND a.correct_top1 = ? AND b.correct_top1 = ?
        ORDER BY ${wrong}.top1_prob DESC, a.image_id LIMIT ? OFFSET ?`,
    )
    .all(q.runB, q.runA, q.split, aRight ? 1 : 0, aRight ? 0 : 1, q.limit, q.offset) as Array<Record<string, unknown>>;
  const classes = runClasses(db, q.runA);
  const side = (r: Record<string, unknown>, x: 'a' | 'b'): JoinedRow =>
    ({
      ...r,
      top1: r[`${x}_top1`],
      top1_prob: r[`${x}_prob`],
      correct_top1: r[`${x}_c1`],
      correct_top5: r[`${x}_c5`],
      top5: r[`${x}_top5`],
    }) as JoinedRow;
  return {
    counts,
    total: aRight ? counts.aRightBWrong : counts.aWrongBRight,
    items: rows.map((r) => ({ a: resultImage(side(r, 'a'), classes), b: resultImage(side(r, 'b'), classes) })),
  };
}
