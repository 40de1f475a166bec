import type { Migration } from './index.js';

/**
 * Training runs as experiments: config, backend, status, best metrics; one row per epoch; a log;
 * and the dataset snapshot the run trained on (image, label, split at its start) so a resumed or
 * evaluated run sees exactly the same data even after the library is edited.
 */
export const m003Runs: Migration = {
  version: 3,
  name: 'runs',
  up(db) {
    db.exec(`
      CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        dataset_id    INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
        dataset_name  TEXT,
        arch          TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'completed', 'stopped', 'failed', 'interrupted')),
        config        TEXT NOT NULL,             -- JSON: the resolved full TrainConfig
        config_diff   TEXT NOT NULL,             -- JSON: only what differs from the defaults
        classes       TEXT NOT NULL DEFAULT '[]',-- JSON: class names in label order
        snapshot_hash TEXT,
        colour_stats  TEXT,                      -- JSON: mean, covariance, eigen of the training pixels
        backend       TEXT,
        device        TEXT,
        threads       INTEGER,
        epochs_done   INTEGER NOT NULL DEFAULT 0,
        best_top1     REAL,
        best_top5     REAL,
        seconds       REAL NOT NULL DEFAULT 0,
        error         TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',
        note          TEXT NOT NULL DEFAULT '',
        created_at    INTEGER NOT NULL,
        started_at    INTEGER,
        finished_at   INTEGER,
        heartbeat_at  INTEGER
      );
      CREATE INDEX runs_dataset ON runs (dataset_id);

      CREATE TABLE epochs (
        run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        epoch         INTEGER NOT NULL,
        train_loss    REAL NOT NULL,
        val_loss      REAL,
        val_top1      REAL,
        val_top5      REAL,
        lr            REAL NOT NULL,
        images_per_second REAL NOT NULL,
        seconds       REAL NOT NULL,
        finished_at   INTEGER NOT NULL,
        PRIMARY KEY (run_id, epoch)
      );

      CREATE TABLE run_log (
        id      INTEGER PRIMARY KEY,
        run_id  INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        time    INTEGER NOT NULL,
        level   TEXT NOT NULL,
        message TEXT NOT NULL
      );
      CREATE INDEX run_log_run ON run_log (run_id, id);

      CREATE TABLE run_images (
        run_id   INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        image_id INTEGER NOT NULL,
        label    INTEGER NOT NULL,
        split    TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        PRIMARY KEY (run_id, image_id)
      ) WITHOUT ROWID;
      CREATE INDEX run_images_split ON run_images (run_id, split, label);
    `);
  },
};
