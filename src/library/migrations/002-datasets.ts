import type { Migration } from './index.js';

/**
 * Datasets and their images. Images keep their id across re-imports (upsert by path), so runs,
 * snapshots and predictions can reference `images.id`; sources are referenced by path + SHA-256.
 */
export const m002Datasets: Migration = {
  version: 2,
  name: 'datasets',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        source_paths TEXT NOT NULL,            -- JSON array of absolute paths
        source_key   TEXT NOT NULL,            -- sorted paths joined by NUL: finds the dataset a re-import updates
        state        TEXT NOT NULL DEFAULT 'importing' CHECK (state IN ('ready', 'importing', 'incomplete')),
        split_train  REAL NOT NULL,
        split_val    REAL NOT NULL,
        split_test   REAL NOT NULL,
        split_seed   INTEGER NOT NULL,
        split_given  INTEGER NOT NULL DEFAULT 0,
        colour_stats TEXT                      -- JSON, written by training
      );
      CREATE INDEX datasets_source ON datasets (source_key);

      CREATE TABLE classes (
        id         INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        name       TEXT NOT NULL,
        UNIQUE (dataset_id, name)
      );

      CREATE TABLE images (
        id                INTEGER PRIMARY KEY,
        dataset_id        INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        path              TEXT NOT NULL,       -- absolute path of the source file
        relative_path     TEXT NOT NULL,       -- inside the imported folder (or the CSV's folder)
        file_name         TEXT NOT NULL,
        sha256            TEXT NOT NULL,
        size              INTEGER NOT NULL,
        mtime_ms          INTEGER NOT NULL,
        width             INTEGER NOT NULL,
        height            INTEGER NOT NULL,
        format            TEXT NOT NULL,
        class_id          INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        original_class_id INTEGER NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        split             TEXT NOT NULL CHECK (split IN ('train', 'val', 'test')),
        split_source      TEXT NOT NULL CHECK (split_source IN ('given', 'auto', 'manual')),
        status            TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing')),
        error             TEXT,
        excluded          INTEGER NOT NULL DEFAULT 0,
        indexed_at        INTEGER NOT NULL,
        UNIQUE (dataset_id, path)
      );
      CREATE INDEX images_hash ON images (dataset_id, sha256);
      -- Covering indexes: a grid page filters and skips (OFFSET) inside the index, reading rows only for the page.
      CREATE INDEX images_by_name ON images (dataset_id, file_name, id, status, excluded, split, class_id);
      CREATE INDEX images_by_class ON images (dataset_id, class_id, file_name, id, status, excluded, split);
      CREATE INDEX images_stats ON images (dataset_id, status, excluded, class_id, split, size);
      CREATE INDEX images_original_class ON images (original_class_id);

      CREATE TABLE import_skips (
        id         INTEGER PRIMARY KEY,
        dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
        path       TEXT NOT NULL,
        kind       TEXT NOT NULL,
        reason     TEXT NOT NULL,
        size       INTEGER,                    -- with mtime_ms: a re-import trusts the reason while the file is unchanged
        mtime_ms   INTEGER,
        sha256     TEXT,
        UNIQUE (dataset_id, path)
      );
    `);
  },
};
