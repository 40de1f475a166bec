import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openLibrary, openLibraryDb } from '../../../src/library/open.js';
import { migrations } from '../../../src/library/migrations/index.js';
import { resolveLibraryDir } from '../../../src/library/paths.js';
import { tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function tmp(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('openLibrary', () => {
  it('creates the folder layout and a WAL database at the latest schema', () => {
    const dir = path.join(tmp(), 'new library');
    const lib = openLibrary(dir);
    try {
      for (const sub of ['thumbs', 'cache', 'runs']) {
        expect(fs.statSync(path.join(dir, sub)).isDirectory()).toBe(true);
      }
      expect(lib.db.pragma('journal_mode', { simple: true })).toBe('wal');
      const latest = Math.max(...migrations.map((m) => m.version));
      expect(lib.schemaVersion).toBe(latest);
      expect(lib.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const journal = lib.db.prepare("SELECT message FROM journal WHERE kind = 'migration'").all();
      expect(journal).toHaveLength(migrations.length);
    } finally {
      lib.close();
    }
  });

  it('reopens without re-running migrations', () => {
    const dir = tmp();
    openLibrary(dir).close();
    const lib = openLibrary(dir);
    try {
      const count = lib.db.prepare("SELECT COUNT(*) AS n FROM journal WHERE kind = 'migration'").get() as { n: number };
      expect(count.n).toBe(migrations.length);
    } finally {
      lib.close();
    }
  });

  it('rolls a failing migration back and leaves the earlier schema intact', () => {
    const dir = tmp();
    openLibrary(dir).close();
    const db = new Database(path.join(dir, 'library.sqlite'));
    const before = db.pragma('user_version', { simple: true }) as number;
    const broken = {
      version: before + 1,
      name: 'broken',
      up(d: Database.Database) {
        d.exec('CREATE TABLE half_done (x INTEGER)');
        throw new Error('disk on fire');
      },
    };
    expect(() => migrate(db, [...migrations, broken])).toThrow(/disk on fire/);
    expect(db.pragma('user_version', { simple: true })).toBe(before);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half_done'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a library written by a newer version, with a message saying so', () => {
    const dir = tmp();
    openLibrary(dir).close();
    const db = new Database(path.join(dir, 'library.sqlite'));
    db.pragma('user_version = 9999');
    db.close();
    expect(() => openLibrary(dir)).toThrow(/newer ConvNet Studio/);
  });

  it('reports a clear error when the folder cannot be created', () => {
    const file = path.join(tmp(), 'a-file');
    fs.writeFileSync(file, 'x');
    expect(() => openLibrary(path.join(file, 'lib'))).toThrow(/Cannot create the library folder/);
  });
});

describe('openLibraryDb', () => {
  it('opens a worker connection to the same database with the same settings as openLibrary', () => {
    const dir = tmp();
    const lib = openLibrary(dir);
    const db = openLibraryDb(dir);
    try {
      const settings = (d: Database.Database) =>
        ['journal_mode', 'foreign_keys', 'busy_timeout', 'synchronous'].map((p) => d.pragma(p, { simple: true }));
      expect(settings(db)).toEqual(['wal', 1, 5000, 1]);
      expect(settings(db)).toEqual(settings(lib.db));
      lib.db.prepare("INSERT INTO journal (time, kind, message) VALUES (1, 'info', 'from main')").run();
      expect(db.prepare("SELECT message FROM journal WHERE kind = 'info'").pluck().get()).toBe('from main');
    } finally {
      db.close();
      lib.close();
    }
  });
});

describe('migration 006: image counts', () => {
  type CountRow = { dataset_id: number; class_id: number; split: string; status: string; excluded: number; n: number; bytes: number };
  const kept = (db: Database.Database): CountRow[] =>
    db.prepare('SELECT dataset_id, class_id, split, status, excluded, n, bytes FROM image_counts WHERE n != 0 ORDER BY 1, 2, 3, 4, 5').all() as CountRow[];
  const actual = (db: Database.Database): CountRow[] =>
    db
      .prepare('SELECT dataset_id, class_id, split, status, excluded, COUNT(*) AS n, SUM(size) AS bytes FROM images GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5')
      .all() as CountRow[];
  const edits = (db: Database.Database, datasetId: number): number =>
    (db.prepare('SELECT COALESCE(SUM(edits), 0) AS e FROM image_counts WHERE dataset_id = ?').get(datasetId) as { e: number }).e;

  function fill(db: Database.Database, datasetId: number, rows: number): void {
    const now = Date.now();
    db.prepare(
      `INSERT INTO datasets (id, name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed)
       VALUES (?, 'd', ?, ?, '[]', ?, 'ready', 0.8, 0.1, 0.1, 0)`,
    ).run(datasetId, now, now, `k${datasetId}`);
    const cls = db.prepare('INSERT INTO classes (dataset_id, name) VALUES (?, ?)');
    const classIds = ['a', 'b', 'c'].map((name) => Number(cls.run(datasetId, name).lastInsertRowid));
    const img = db.prepare(
      `INSERT INTO images (dataset_id, path, relative_path, file_name, sha256, size, mtime_ms, width, height, format, class_id, original_class_id, split, split_source, status, excluded, indexed_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, 8, 8, 'png', ?, ?, ?, 'auto', ?, ?, 0)`,
    );
    for (let i = 0; i < rows; i++) {
      const classId = classIds[i % 3]!;
      img.run(datasetId, `/d${datasetId}/${i}.png`, `${i}.png`, `${i}.png`, String(i), 100 + i, classId, classId, ['train', 'val', 'test'][i % 5 % 3]!, i % 11 === 0 ? 'missing' : 'ok', i % 7 === 0 ? 1 : 0);
    }
  }

  it('backfills the counts of a library written before it', () => {
    const dir = tmp();
    const db = new Database(path.join(dir, 'library.sqlite'));
    migrate(db, migrations.filter((m) => m.version < 6));
    fill(db, 1, 500);
    fill(db, 2, 120);
    db.close();
    const lib = openLibrary(dir);
    try {
      expect(lib.schemaVersion).toBeGreaterThanOrEqual(6);
      expect(kept(lib.db)).toEqual(actual(lib.db));
      expect(kept(lib.db).reduce((sum, r) => sum + r.n, 0)).toBe(620);
    } finally {
      lib.close();
    }
  });

  it('keeps the counts exact through inserts, edits and deletes, and versions every change', () => {
    const lib = openLibrary(tmp());
    const { db } = lib;
    try {
      fill(db, 1, 300);
      fill(db, 2, 50);
      expect(kept(db)).toEqual(actual(db));
      let version = edits(db, 1);
      const step = (sql: string, ...args: unknown[]): void => {
        db.prepare(sql).run(...args);
        expect(kept(db)).toEqual(actual(db));
        const now = edits(db, 1);
        expect(now).toBeGreaterThan(version);
        version = now;
      };
      const [a, b] = (db.prepare('SELECT id FROM classes WHERE dataset_id = 1 ORDER BY name').all() as Array<{ id: number }>).map((c) => c.id);
      step('UPDATE images SET class_id = ? WHERE dataset_id = 1 AND id % 4 = 0', b);
      step(`UPDATE images SET split = 'test' WHERE dataset_id = 1 AND id % 6 = 1`);
      step('UPDATE images SET excluded = 1 - excluded WHERE dataset_id = 1 AND id % 5 = 2');
      step(`UPDATE images SET status = 'missing' WHERE dataset_id = 1 AND id % 9 = 3`);
      step('UPDATE images SET size = size + 7 WHERE dataset_id = 1 AND id % 10 = 4');
      step(`UPDATE images SET file_name = 'z' || file_name WHERE dataset_id = 1 AND id % 13 = 5`);
      step('DELETE FROM images WHERE dataset_id = 1 AND id % 8 = 6');
      step(`UPDATE classes SET name = 'renamed' WHERE id = ?`, a);
      // A change that changes nothing leaves the version alone.
      db.prepare('UPDATE images SET class_id = class_id, split = split, size = size WHERE dataset_id = 1').run();
      expect(edits(db, 1)).toBe(version);
      // Dataset 2 was never touched by any of it.
      expect(kept(db).filter((r) => r.dataset_id === 2)).toEqual(actual(db).filter((r) => r.dataset_id === 2));
      db.prepare('DELETE FROM images WHERE dataset_id = 2').run();
      db.prepare('DELETE FROM classes WHERE dataset_id = 2').run();
      db.prepare('DELETE FROM datasets WHERE id = 2').run();
      expect(db.prepare('SELECT COUNT(*) AS n FROM image_counts WHERE dataset_id = 2').get()).toEqual({ n: 0 });
      expect(kept(db)).toEqual(actual(db));
    } finally {
      lib.close();
    }
  });
});

describe('resolveLibraryDir', () => {
  it('prefers --library, then CONVNET_LIBRARY, then the platform default', () => {
    expect(resolveLibraryDir('/x/flag', { CONVNET_LIBRARY: '/x/env' })).toBe(path.resolve('/x/flag'));
    expect(resolveLibraryDir(null, { CONVNET_LIBRARY: '/x/env' })).toBe(path.resolve('/x/env'));
    const fallback = resolveLibraryDir(null, {});
    expect(path.isAbsolute(fallback)).toBe(true);
    expect(fallback).toMatch(/ConvNet Studio/);
  });
});

describe('migration 009: time limit in minutes', () => {
  it('moves a stored run\'s timeLimitSeconds to timeLimitMinutes, in its config and its diff', () => {
    const dir = tmp();
    const db = new Database(path.join(dir, 'library.sqlite'));
    migrate(db, migrations.filter((m) => m.version < 9));
    const now = Date.now();
    db.prepare(
      `INSERT INTO datasets (id, name, created_at, updated_at, source_paths, source_key, state, split_train, split_val, split_test, split_seed)
       VALUES (1, 'd', ?, ?, '[]', 'k', 'ready', 0.8, 0.1, 0.1, 0)`,
    ).run(now, now);
    const run = db.prepare(`INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, created_at) VALUES (1, 'd', 'alexnet-small', 'completed', ?, ?, ?)`);
    run.run(JSON.stringify({ datasetId: 1, epochs: 3, timeLimitSeconds: 90, seed: 1 }), JSON.stringify({ epochs: 3, timeLimitSeconds: 90 }), now);
    run.run(JSON.stringify({ datasetId: 1, epochs: 3, timeLimitSeconds: null, seed: 1 }), JSON.stringify({ epochs: 3 }), now);
    db.close();
    const lib = openLibrary(dir);
    try {
      const rows = lib.db.prepare('SELECT config, config_diff FROM runs ORDER BY id').all() as Array<{ config: string; config_diff: string }>;
      expect(JSON.parse(rows[0]!.config)).toEqual({ datasetId: 1, epochs: 3, seed: 1, timeLimitMinutes: 1.5 });
      expect(JSON.parse(rows[0]!.config_diff)).toEqual({ epochs: 3, timeLimitMinutes: 1.5 });
      expect(JSON.parse(rows[1]!.config)).toEqual({ datasetId: 1, epochs: 3, seed: 1, timeLimitMinutes: null });
      expect(JSON.parse(rows[1]!.config_diff)).toEqual({ epochs: 3 });
    } finally {
      lib.close();
    }
  });
});

describe('migration 010: run lineage', () => {
  it('keeps existing runs as local runs without parents, and clears a parent link when the parent is deleted', () => {
    const lib = openLibrary(tmp());
    try {
      const now = Date.now();
      const insert = lib.db.prepare(
        `INSERT INTO runs (arch, status, config, config_diff, created_at, parent_run_id) VALUES ('alexnet-small', 'completed', '{}', '{}', ?, ?)`,
      );
      const parent = Number(insert.run(now, null).lastInsertRowid);
      const child = Number(insert.run(now, parent).lastInsertRowid);
      const row = () => lib.db.prepare('SELECT parent_run_id, parent_model_id, origin FROM runs WHERE id = ?').get(child);
      expect(row()).toEqual({ parent_run_id: parent, parent_model_id: null, origin: 'local' });
      expect(() => lib.db.prepare(`UPDATE runs SET origin = 'elsewhere' WHERE id = ?`).run(child)).toThrow(/CHECK/);
      lib.db.prepare('DELETE FROM runs WHERE id = ?').run(parent);
      expect(row()).toEqual({ parent_run_id: null, parent_model_id: null, origin: 'local' });
    } finally {
      lib.close();
    }
  });
});
