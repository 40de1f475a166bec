import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ApiError } from '../api/errors.js';
import { migrations, type Migration } from './migrations/index.js';

/** An open library folder: its database and the folders beside it. */
export interface Library {
  readonly dir: string;
  readonly db: Database.Database;
  readonly thumbsDir: string;
  readonly cacheDir: string;
  readonly runsDir: string;
  /** The schema version after migrations ran. */
  readonly schemaVersion: number;
  close(): void;
}

export interface OpenLibraryOptions {
  /** Path to a better-sqlite3 binary built for this runtime (Electron passes one in development). */
  nativeBinding?: string;
  readonly?: boolean;
}

/** The file name of a library's database inside its folder. */
export const DATABASE_FILE = 'library.sqlite';

/** Opens (creating if needed) a library folder and brings its schema up to date. */
export function openLibrary(dir: string, options: OpenLibraryOptions = {}): Library {
  const root = path.resolve(dir);
  try {
    fs.mkdirSync(root, { recursive: true });
  } catch (err) {
    throw new ApiError('unavailable', `Cannot create the library folder ${root}: ${(err as Error).message}`);
  }
  const thumbsDir = path.join(root, 'thumbs');
  const cacheDir = path.join(root, 'cache');
  const runsDir = path.join(root, 'runs');
  try {
    for (const sub of [thumbsDir, cacheDir, runsDir]) {
      fs.mkdirSync(sub, { recursive: true });
    }
  } catch (err) {
    throw notWritable(root, err) ?? err;
  }

  let db: Database.Database;
  try {
    db = connect(root, options);
  } catch (err) {
    throw notWritable(root, err) ?? new ApiError('unavailable', `Cannot open the library database in ${root}: ${(err as Error).message}`);
  }
  try {
    configure(db, options);
    const schemaVersion = options.readonly ? currentVersion(db) : migrate(db, migrations);
    return {
      dir: root,
      db,
      thumbsDir,
      cacheDir,
      runsDir,
      schemaVersion,
      close: () => {
        if (db.open) {
          db.close();
        }
      },
    };
  } catch (err) {
    db.close();
    throw notWritable(root, err) ?? err;
  }
}

/**
 * A worker thread's own connection to a library the main thread already opened with openLibrary (folders made,
 * schema migrated): the same file and the same settings, nothing created, no migration.
 */
export function openLibraryDb(dir: string, options: OpenLibraryOptions = {}): Database.Database {
  const db = connect(path.resolve(dir), options);
  try {
    configure(db, options);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function connect(root: string, options: OpenLibraryOptions): Database.Database {
  return new Database(path.join(root, DATABASE_FILE), {
    ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}),
    readonly: options.readonly ?? false,
  });
}

/** The settings of every connection to a library: WAL, foreign keys enforced, a 5 s wait for another writer. */
function configure(db: Database.Database, options: OpenLibraryOptions): void {
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
  }
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
}

/**
 * The one sentence for a library folder this process cannot write: SQLite's WAL journal needs to write beside
 * the database even to read it. Null for other errors.
 */
function notWritable(root: string, err: unknown): ApiError | null {
  const code = String((err as { code?: unknown })?.code ?? '');
  if (!/^(EACCES|EPERM|EROFS|SQLITE_READONLY|SQLITE_CANTOPEN)/.test(code)) {
    return null;
  }
  return new ApiError(
    'unavailable',
    `The library ${root} is not writable by this user (the folder or its ${DATABASE_FILE}), and ConvNet Studio must write there even to read it: make it writable, or choose another with --library DIR (or CONVNET_LIBRARY).`,
  );
}

function currentVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Runs the migrations newer than the database, each in its own transaction; returns the new version. */
export function migrate(db: Database.Database, list: readonly Migration[]): number {
  const latest = list.reduce((max, m) => Math.max(max, m.version), 0);
  // IMMEDIATE takes the write lock first, so two processes opening one library migrate once.
  const step = db.transaction((m: Migration) => {
    if (currentVersion(db) >= m.version) {
      return;
    }
    m.up(db);
    db.pragma(`user_version = ${m.version}`);
    db.prepare('INSERT INTO journal (time, kind, message) VALUES (?, ?, ?)').run(
      Date.now(),
      'migration',
      `schema ${m.version}: ${m.name}`,
    );
  });
  const version = currentVersion(db);
  if (version > latest) {
    throw new ApiError(
      'conflict',
      `This library was written by a newer ConvNet Studio (schema ${version}; this version knows up to ${latest}). Update the app to open it.`,
    );
  }
  for (const m of [...list].sort((a, b) => a.version - b.version)) {
    if (m.version > version) {
      step.immediate(m);
    }
  }
  return currentVersion(db);
}
