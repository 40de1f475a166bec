import fs from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { ModelSummary } from '../api/classify.js';
import { ApiError } from '../api/errors.js';
import type { Library } from '../library/open.js';
import { inspectModelFolder } from './model-folder-check.js';
import { copyRegularFile, NotRegularFile } from './regular-file.js';

interface ModelRow {
  id: number;
  name: string;
  arch: string | null;
  classes: string;
  input_size: number;
  source_dir: string;
  source_run_id: number | null;
  size_bytes: number;
  imported_at: number;
}

/** Folder of an imported model inside the library. */
export function modelDir(library: Pick<Library, 'dir'>, id: number): string {
  return path.join(library.dir, 'models', String(id));
}

function summaryOf(library: Pick<Library, 'dir'>, row: ModelRow): ModelSummary {
  return {
    id: row.id,
    name: row.name,
    arch: row.arch,
    classes: JSON.parse(row.classes) as string[],
    inputSize: row.input_size,
    sourceDir: row.source_dir,
    dir: modelDir(library, row.id),
    sourceRunId: row.source_run_id,
    importedAt: row.imported_at,
    sizeBytes: row.size_bytes,
  };
}

/** Imported models, newest first. */
export function listModels(library: Pick<Library, 'dir' | 'db'>): ModelSummary[] {
  return (library.db.prepare('SELECT * FROM models ORDER BY id DESC').all() as ModelRow[]).map((r) => summaryOf(library, r));
}

/** One imported model, or not_found. */
export function getModel(library: Pick<Library, 'dir' | 'db'>, id: number): ModelSummary {
  const row = library.db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRow | undefined;
  if (!row) {
    throw new ApiError('not_found', `Model ${id} does not exist in this library (see models.list).`);
  }
  return summaryOf(library, row);
}

/** Prefix of the folders imports copy into before they are complete: `models/.import-<pid>-<random>`. */
export const IMPORT_PREFIX = '.import-';

/** Removes the copying folders of imports whose process is gone (killed mid-copy); others' live imports are left alone. */
function sweepAbandonedImports(root: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => n.startsWith(IMPORT_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(IMPORT_PREFIX.length).split('-')[0]);
    let alive = pid === process.pid;
    if (!alive && Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (!alive) {
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
  }
}

/**
 * Checks an exported folder completely (model-folder-check.ts), copies the files it names into a temporary folder
 * without blocking the event loop, and only then inserts the row and renames the folder to `models/<id>/` in one
 * transaction: a refused or failed import leaves neither row nor folder. The source folder is only read.
 * `recordedSource` is what the row names as the source when the folder is a conversion (the original file).
 */
export async function importModel(library: Pick<Library, 'dir' | 'db'>, sourceDir: string, name?: string, recordedSource?: string): Promise<ModelSummary> {
  const dir = path.resolve(sourceDir);
  const folder = inspectModelFolder(dir);
  const root = path.join(library.dir, 'models');
  await mkdir(root, { recursive: true });
  sweepAbandonedImports(root);
  const tmp = await mkdtemp(path.join(root, `${IMPORT_PREFIX}${process.pid}-`));
  try {
    for (const f of folder.files) {
      try {
        await copyRegularFile(path.join(dir, f.name), path.join(tmp, f.name), f.size);
      } catch (err) {
        throw err instanceof NotRegularFile ? new ApiError('bad_request', `${path.join(dir, f.name)} is ${err.message}; nothing was imported.`) : err;
      }
    }
    const db: Database = library.db;
    const id = db.transaction(() => {
      const inserted = Number(
        db
          .prepare(
            `INSERT INTO models (name, arch, classes, input_size, source_dir, source_run_id, size_bytes, imported_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(name ?? path.basename(dir), folder.spec.arch, JSON.stringify(folder.spec.classes), folder.spec.inputSize, recordedSource ?? dir, folder.spec.runId, folder.sizeBytes, Date.now())
          .lastInsertRowid,
      );
      const target = modelDir(library, inserted);
      fs.rmSync(target, { recursive: true, force: true }); // a folder left by a crash between rename and commit
      fs.renameSync(tmp, target);
      return inserted;
    })();
    return getModel(library, id);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err instanceof ApiError ? err : new ApiError('unavailable', `Could not copy the model into the library: ${(err as Error).message}`);
  }
}

/** Removes an imported model's row and folder; false when it did not exist. */
export function deleteModel(library: Pick<Library, 'dir' | 'db'>, id: number): boolean {
  const changes = library.db.prepare('DELETE FROM models WHERE id = ?').run(id).changes;
  fs.rmSync(modelDir(library, id), { recursive: true, force: true });
  return changes > 0;
}
