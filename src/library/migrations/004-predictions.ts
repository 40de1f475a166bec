import type { Migration } from './index.js';

/**
 * Predictions of a run per split and image (top-1, its probability, top-5 as JSON, hits), so every
 * evaluation view is a query; and one row per computed (run, split) saying how and when. The fc7
 * features computed in the same pass live beside the checkpoint in `runs/<id>/features-<split>.f32`.
 */
export const m004Predictions: Migration = {
  version: 4,
  name: 'predictions',
  up(db) {
    db.exec(`
      CREATE TABLE prediction_sets (
        run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        split       TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        ten_crop    INTEGER NOT NULL,
        images      INTEGER NOT NULL,
        loss        REAL NOT NULL,
        top1_error  REAL NOT NULL,
        top5_error  REAL NOT NULL,
        feature_dim INTEGER NOT NULL,           -- width of the fc7 features written with them
        epoch       INTEGER NOT NULL,           -- the checkpoint's epoch they came from
        backend     TEXT NOT NULL,
        computed_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, split)
      ) WITHOUT ROWID;

      CREATE TABLE predictions (
        run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        split        TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        image_id     INTEGER NOT NULL,
        label        INTEGER NOT NULL,          -- true label index in the run's classes
        top1         INTEGER NOT NULL,          -- predicted label index
        top1_prob    REAL NOT NULL,             -- its probability: the confidence views sort by
        correct_top1 INTEGER NOT NULL,
        correct_top5 INTEGER NOT NULL,
        top5         TEXT NOT NULL,             -- JSON [{label, probability}], most probable first
        PRIMARY KEY (run_id, split, image_id)
      ) WITHOUT ROWID;
      -- Confusion cells (and per-class counts) page inside the index in confidence order.
      CREATE INDEX predictions_cell ON predictions (run_id, split, label, top1, top1_prob);
      -- Mistakes in confidence order.
      CREATE INDEX predictions_mistakes ON predictions (run_id, split, correct_top1, top1_prob);
      -- Per-class top-5 hits for the summary without reading the rows (top-1 hits are the confusion diagonal).
      CREATE INDEX predictions_hits ON predictions (run_id, split, label, correct_top5);
    `);
  },
};
