import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openLibrary } from '../../../src/library/open.js';
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

describe('resolveLibraryDir', () => {
  it('prefers --library, then CONVNET_LIBRARY, then the platform default', () => {
    expect(resolveLibraryDir('/x/flag', { CONVNET_LIBRARY: '/x/env' })).toBe(path.resolve('/x/flag'));
    expect(resolveLibraryDir(null, { CONVNET_LIBRARY: '/x/env' })).toBe(path.resolve('/x/env'));
    const fallback = resolveLibraryDir(null, {});
    expect(path.isAbsolute(fallback)).toBe(true);
    expect(fallback).toMatch(/ConvNet Studio/);
  });
});
