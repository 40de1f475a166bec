import type { Migration } from './index.js';

/**
 * Models imported from folders exported by ConvNet Studio (possibly on another machine). Files live in
 * `models/<id>/` inside the library; the row keeps what lists and the Classify view show without reading them.
 */
export const m005Models: Migration = {
  version: 5,
  name: 'models',
  up(db) {
    db.exec(`
      CREATE TABLE models (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL,
        arch          TEXT,
        classes       TEXT NOT NULL,             -- JSON: class names in output order
        input_size    INTEGER NOT NULL,
        source_dir    TEXT NOT NULL,             -- the folder it was imported from
        source_run_id INTEGER,                   -- the run it was exported from, on the machine that trained it
        size_bytes    INTEGER NOT NULL,
        imported_at   INTEGER NOT NULL
      );
    `);
  },
};
