import fs from 'node:fs';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { ModelSummary } from '../api/classify.js';
import { ApiError } from '../api/errors.js';
import type { Library } from '../library/open.js';
import { inspectModelFolder } from './model-folder.js';

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

/**
 * Checks an exported folder and copies the files it names into `models/<id>/` (through a temporary folder,
 * so a failed copy leaves neither row nor folder). The source folder is only read.
 */
export function importModel(library: Pick<Library, 'dir' | 'db'>, sourceDir: string, name?: string): ModelSummary {
  const dir = path.resolve(sourceDir);
  const folder = inspectModelFolder(dir);
  const files = ['model.json', 'labels.json', 'preprocessing.json', ...folder.shards];
  const extras = ['convnet-layers.js', 'predict.mjs', 'package.json', 'README.md'].filter((f) => fs.existsSync(path.join(dir, f)));
  const db: Database = library.db;
  const id = Number(
    db
      .prepare(
        `INSERT INTO models (name, arch, classes, input_size, source_dir, source_run_id, size_bytes, imported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(name ?? path.basename(dir), folder.spec.arch, JSON.stringify(folder.spec.classes), folder.spec.inputSize, dir, folder.spec.runId, folder.sizeBytes, Date.now())
      .lastInsertRowid,
  );
  const target = modelDir(library, id);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(tmp, { recursive: true });
    for (const f of [...files, ...extras]) {
      fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
    }
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    db.prepare('DELETE FROM models WHERE id = ?').run(id);
    throw new ApiError('unavailable', `Could not copy the model into the library: ${(err as Error).message}`);
  }
  return getModel(library, id);
}

/** Removes an imported model's row and folder; false when it did not exist. */
export function deleteModel(library: Pick<Library, 'dir' | 'db'>, id: number): boolean {
  const changes = library.db.prepare('DELETE FROM models WHERE id = ?').run(id).changes;
  fs.rmSync(modelDir(library, id), { recursive: true, force: true });
  return changes > 0;
}
