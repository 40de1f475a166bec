import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Handlers } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import type { StudioContext } from '../library/studio-context.js';
import { ImportJobs } from './import-jobs.js';
import { getImage, listImages, updateImages } from './image-rows.js';
import { datasetMediaResolver } from './media.js';
import { applyAutoSplits, datasetRow, journal } from './store.js';
import { datasetDetail, listDatasets } from './summaries.js';

/** The methods this domain answers. */
export type DatasetMethod =
  | 'datasets.list' | 'datasets.get' | 'datasets.import' | 'datasets.cancelImport' | 'datasets.importJobs' | 'datasets.skipped'
  | 'datasets.rename' | 'datasets.delete' | 'datasets.resplit' | 'images.list' | 'images.get' | 'images.update';

/** Options the composition root passes along (the Electron-built SQLite binary, for the import worker's connection). */
export interface DatasetServiceOptions {
  nativeBinding?: string | undefined;
}

/** Import jobs per studio, so the CLI and tests can await an import's end. */
const jobsByLibrary = new WeakMap<object, ImportJobs>();

/** The import jobs of a studio (created with its dataset handlers). */
export function importJobsOf(ctx: Pick<StudioContext, 'library'>): ImportJobs {
  const jobs = jobsByLibrary.get(ctx.library);
  if (!jobs) {throw new Error('datasetHandlers(ctx) was not installed on this studio.');}
  return jobs;
}

/** `datasets.*` and `images.*`; registers the /media/thumb and /media/image resolvers and stops imports on close. */
export function datasetHandlers(ctx: StudioContext, options: DatasetServiceOptions = {}): Pick<Handlers, DatasetMethod> {
  const { db } = ctx.library;
  const jobs = new ImportJobs(ctx.library.dir, ctx.events, options.nativeBinding);
  jobsByLibrary.set(ctx.library, jobs);
  ctx.media.push(datasetMediaResolver(ctx.library));
  ctx.closers.push(() => jobs.closeAll());
  const running = (id: number): boolean => jobs.isImporting(id);
  const detail = (id: number) => {
    const found = datasetDetail(db, id, running);
    if (!found) {throw new ApiError('not_found', `No dataset with id ${id}.`);}
    return found;
  };
  const idle = (id: number): void => {
    if (jobs.isImporting(id)) {throw new ApiError('conflict', 'This dataset is being imported; wait for the import to end or cancel it.');}
  };

  return {
    'datasets.list': async () => listDatasets(db, running),
    'datasets.get': async ({ id }) => detail(id),
    'datasets.import': async (request) => {
      const paths = await checkSources(request.paths);
      if (request.datasetId !== undefined && !datasetRow(db, request.datasetId)) {throw new ApiError('not_found', `No dataset with id ${request.datasetId}.`);}
      const { jobId } = jobs.start({ ...request, paths });
      return { jobId };
    },
    'datasets.cancelImport': async ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),
    'datasets.importJobs': async () => jobs.list(),
    'datasets.skipped': async ({ id, offset, limit }) => {
      detail(id);
      return db.prepare('SELECT path, reason, kind FROM import_skips WHERE dataset_id = ? ORDER BY path LIMIT ? OFFSET ?').all(id, limit, offset) as Array<{ path: string; reason: string; kind: never }>;
    },
    'datasets.rename': async ({ id, name }) => {
      const before = detail(id);
      db.prepare('UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?').run(name, Date.now(), id);
      journal(db, 'datasets.rename', `dataset ${id}: "${before.name}" → "${name}"`);
      const { classList: _c, split: _s, colourStats: _cs, skipped: _sk, duplicates: _d, excluded: _e, missing: _m, ...summary } = detail(id);
      return summary;
    },
    'datasets.delete': async ({ id }) => {
      const row = datasetRow(db, id);
      if (!row) {return { deleted: false };}
      idle(id);
      db.transaction(() => {
        // Children first: images reference classes as well as the dataset.
        db.prepare('DELETE FROM images WHERE dataset_id = ?').run(id);
        db.prepare('DELETE FROM import_skips WHERE dataset_id = ?').run(id);
        db.prepare('DELETE FROM classes WHERE dataset_id = ?').run(id);
        db.prepare('DELETE FROM datasets WHERE id = ?').run(id);
        journal(db, 'datasets.delete', `dataset ${id} "${row.name}" removed from the library (source files untouched)`);
      }).immediate();
      return { deleted: true };
    },
    'datasets.resplit': async ({ id, train, val, test, seed, keepTest }) => {
      detail(id);
      idle(id);
      db.transaction(() => {
        if (keepTest) {
          // Test images assigned by an earlier stratified split would be re-split with the rest: refuse rather than lose them.
          const drawn = db.prepare(`SELECT COUNT(*) AS n FROM images WHERE dataset_id = ? AND split = 'test' AND split_source = 'auto'`).get(id) as { n: number };
          if (drawn.n > 0) {
            throw new ApiError('conflict', `This dataset's test split was drawn by a stratified split, not given by its source; re-split train/val/test together instead (for example 80/10/10).`);
          }
        }
        db.prepare('UPDATE datasets SET split_train = ?, split_val = ?, split_test = ?, split_seed = ?, val_carved = ?, val_from_train = CASE WHEN ? THEN ? ELSE val_from_train END, updated_at = ? WHERE id = ?')
          .run(train, val, test, seed, keepTest && val > 0 ? 1 : 0, keepTest ? 1 : 0, val, Date.now(), id);
        db.prepare(`UPDATE images SET split_source = 'auto' WHERE dataset_id = ? ${keepTest ? "AND split != 'test'" : ''}`).run(id);
        applyAutoSplits(db, id);
        journal(db, 'datasets.resplit', keepTest
          ? `dataset ${id}: ${fmt(val)}% of train carved out as validation (stratified, seed ${seed}); test kept`
          : `dataset ${id}: stratified ${fmt(train)}/${fmt(val)}/${fmt(test)}, seed ${seed}`);
      }).immediate();
      return detail(id);
    },
    'images.list': async (query) => {
      // Only that it exists: the gallery asks for a page on every scroll, the summary is not needed.
      if (!db.prepare('SELECT 1 FROM datasets WHERE id = ?').get(query.datasetId)) {
        throw new ApiError('not_found', `No dataset with id ${query.datasetId}.`);
      }
      return listImages(db, query);
    },
    'images.get': async ({ id }) => getImage(db, id),
    'images.update': async (edit) => ({ updated: updateImages(db, edit) }),
  };
}

function fmt(fraction: number): string {
  return String(Math.round(fraction * 1000) / 10);
}

/** Checks that every source path is absolute and exists; returns them normalised. */
async function checkSources(paths: string[]): Promise<string[]> {
  const problems: string[] = [];
  const normalised = paths.map((p) => path.normalize(p).replace(/(.)[\\/]+$/, '$1'));
  for (const p of normalised) {
    if (!path.isAbsolute(p)) {
      problems.push(`not an absolute path: ${p}`);
      continue;
    }
    try {
      await stat(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(code === 'ENOENT' ? `not found: ${p}` : `cannot be read (${code}): ${p}`);
    }
  }
  if (problems.length > 0) {throw new ApiError('bad_request', `Cannot import: ${problems.join('; ')}.`);}
  return [...new Set(normalised)];
}
