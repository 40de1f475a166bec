import type { Migration } from './index.js';

/** The library's own bookkeeping: settings and an append-only log of what was done to it. */
export const m001Base: Migration = {
  version: 1,
  name: 'base',
  up(db) {
    db.exec(`
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE journal (
        id      INTEGER PRIMARY KEY,
        time    INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        message TEXT NOT NULL
      );
    `);
  },
};
