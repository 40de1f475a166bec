// The stored suspected-label scan of a run: one row of how it was made and each training image's
// out-of-fold prediction; the views and `convnet suspects` read it as a ranked page.
import type { Database } from 'better-sqlite3';
import type { ResultImage } from '../api/results.js';
import { JOINS, resultImage, runClasses, type JoinedRow } from '../evaluate/results-queries.js';

/** How a run's scan was made. */
export interface SuspectScan {
  runId: number;
  folds: number;
  epochs: number;
  images: number;
  disagreements: number;
  seconds: number;
  backend: string;
  computedAt: number;
}

/** One training image's out-of-fold prediction. */
export interface SuspectRow {
  imageId: number;
  fold: number;
  label: number;
  top1: number;
  top1Prob: number;
  givenProb: number;
  score: number;
  top5: Array<{ label: number; probability: number }>;
}

/** Replaces a run's scan in one transaction. */
export function storeSuspectScan(db: Database, scan: SuspectScan, rows: SuspectRow[]): void {
  const insert = db.prepare('INSERT INTO suspects (run_id, image_id, fold, label, top1, top1_prob, given_prob, score, top5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    db.prepare('DELETE FROM suspect_scans WHERE run_id = ?').run(scan.runId);
    db.prepare('INSERT INTO suspect_scans (run_id, folds, epochs, images, disagreements, seconds, backend, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      scan.runId, scan.folds, scan.epochs, scan.images, scan.disagreements, scan.seconds, scan.backend, scan.computedAt,
    );
    for (const r of rows) {
      insert.run(scan.runId, r.imageId, r.fold, r.label, r.top1, r.top1Prob, r.givenProb, r.score, JSON.stringify(r.top5));
    }
  })();
}

/** A run's stored scan, or null when none was made. */
export function suspectScan(db: Database, runId: number): SuspectScan | null {
  const r = db.prepare('SELECT * FROM suspect_scans WHERE run_id = ?').get(runId) as
    | { run_id: number; folds: number; epochs: number; images: number; disagreements: number; seconds: number; backend: string; computed_at: number }
    | undefined;
  return r ? { runId: r.run_id, folds: r.folds, epochs: r.epochs, images: r.images, disagreements: r.disagreements, seconds: r.seconds, backend: r.backend, computedAt: r.computed_at } : null;
}

/** A suspect as the galleries show it: the result image (prediction = out of fold) with its score. */
export type SuspectImage = ResultImage & { score: number; givenProbability: number; path: string | null };

/** Training images whose out-of-fold top-1 is not their label, most suspect (lowest probability of the given label) first. */
export function suspectPage(db: Database, runId: number, page: { offset: number; limit: number }): { total: number; items: SuspectImage[] } {
  const classes = runClasses(db, runId);
  const total = (db.prepare('SELECT COUNT(*) AS n FROM suspects WHERE run_id = ? AND top1 <> label').get(runId) as { n: number }).n;
  const rows = db
    .prepare(
      `SELECT p.image_id, 'train' AS split, p.label, p.top1, p.top1_prob, 0 AS correct_top1,
              EXISTS (SELECT 1 FROM json_each(p.top5) t WHERE json_extract(t.value, '$.label') = p.label) AS correct_top5,
              p.top5, i.file_name, i.class_id, c.name AS class_name, i.dataset_id, i.excluded, p.score, p.given_prob, i.path
         FROM suspects p ${JOINS}
        WHERE p.run_id = ? AND p.top1 <> p.label
        ORDER BY p.score DESC, p.image_id ASC LIMIT ? OFFSET ?`,
    )
    .all(runId, page.limit, page.offset) as Array<JoinedRow & { score: number; given_prob: number; path: string | null }>;
  return { total, items: rows.map((r) => ({ ...resultImage(r, classes), score: r.score, givenProbability: r.given_prob, path: r.path })) };
}
