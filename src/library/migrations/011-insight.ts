import type { Migration } from './index.js';

/**
 * Insight results kept so the views never recompute them: a run's suspected-label scan (one row of how it
 * was made, plus every training image's out-of-fold prediction) and the learning-rate finder's sweeps, which
 * are their own record and create no run.
 */
export const m011Insight: Migration = {
  version: 11,
  name: 'suspects and lr finds',
  up(db) {
    db.exec(`
      CREATE TABLE suspect_scans (
        run_id        INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        folds         INTEGER NOT NULL,
        epochs        INTEGER NOT NULL,          -- epochs each fold's model trained
        images        INTEGER NOT NULL,          -- training images scored out of fold
        disagreements INTEGER NOT NULL,          -- of them, those whose out-of-fold top-1 is not their label
        seconds       REAL NOT NULL,
        backend       TEXT NOT NULL,
        computed_at   INTEGER NOT NULL
      );

      CREATE TABLE suspects (
        run_id     INTEGER NOT NULL REFERENCES suspect_scans (run_id) ON DELETE CASCADE,
        image_id   INTEGER NOT NULL,
        fold       INTEGER NOT NULL,             -- the fold it was held out in
        label      INTEGER NOT NULL,             -- its label in the run's snapshot
        top1       INTEGER NOT NULL,             -- out-of-fold prediction
        top1_prob  REAL NOT NULL,
        given_prob REAL NOT NULL,                -- out-of-fold probability of its own label
        score      REAL NOT NULL,                -- 1 - given_prob: how strongly the model disagrees
        top5       TEXT NOT NULL,                -- JSON [{label, probability}]
        PRIMARY KEY (run_id, image_id)
      ) WITHOUT ROWID;
      CREATE INDEX suspects_rank ON suspects (run_id, score DESC, image_id);

      CREATE TABLE lr_finds (
        id          INTEGER PRIMARY KEY,
        dataset_id  INTEGER REFERENCES datasets (id) ON DELETE CASCADE,
        arch        TEXT NOT NULL,
        config      TEXT NOT NULL,               -- the training config swept (JSON)
        suggested   REAL,                        -- null when the loss never fell
        curve       TEXT NOT NULL,               -- JSON [{lr, loss, smoothed}]
        backend     TEXT NOT NULL,
        seconds     REAL NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX lr_finds_dataset ON lr_finds (dataset_id, created_at);
    `);
  },
};
