import type { Database } from 'better-sqlite3';
import type { ImageDetail, ImageListItem, SplitName } from '../api/datasets.js';
import { ApiError } from '../api/errors.js';
import { journal } from './store.js';

/** Filters and page of `images.list` (after defaults). */
export interface ImageQuery {
  datasetId: number;
  classId?: number | undefined;
  split?: SplitName | undefined;
  status: 'ok' | 'excluded' | 'all';
  search?: string | undefined;
  offset: number;
  limit: number;
  sort: 'name' | 'added' | 'class' | 'size';
}

const ORDER: Record<ImageQuery['sort'], string> = {
  name: 'i.file_name, i.id',
  added: 'i.id',
  class: 'c.name, i.file_name, i.id',
  size: 'i.size DESC, i.id',
};

const LIST_COLUMNS = `i.id, i.file_name AS fileName, i.class_id AS classId, c.name AS className, i.split, i.width, i.height, i.format, i.excluded`;

/** One page of a dataset's images with the number that match; served from indexes on (dataset, name|class). */
export function listImages(db: Database, q: ImageQuery): { total: number; items: ImageListItem[] } {
  const where = ['i.dataset_id = ?'];
  const args: Array<string | number> = [q.datasetId];
  if (q.classId !== undefined) {
    where.push('i.class_id = ?');
    args.push(q.classId);
  }
  if (q.split !== undefined) {
    where.push('i.split = ?');
    args.push(q.split);
  }
  if (q.status === 'ok') {where.push(`i.status = 'ok' AND i.excluded = 0`);}
  if (q.status === 'excluded') {where.push('i.excluded = 1');}
  if (q.search) {
    where.push(`i.file_name LIKE ? ESCAPE '\\'`);
    args.push(`%${q.search.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
  }
  const clause = where.join(' AND ');
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM images i WHERE ${clause}`).get(...args) as { n: number }).n;
  // The page's ids come from the covering index alone; only those rows are then read and joined.
  const pageIds = `SELECT i.id FROM images i ${q.sort === 'class' ? 'JOIN classes c ON c.id = i.class_id' : ''} WHERE ${clause} ORDER BY ${ORDER[q.sort]} LIMIT ? OFFSET ?`;
  const items = db
    .prepare(`SELECT ${LIST_COLUMNS} FROM (${pageIds}) AS page JOIN images i ON i.id = page.id JOIN classes c ON c.id = i.class_id ORDER BY ${ORDER[q.sort]}`)
    .all(...args, q.limit, q.offset) as Array<Omit<ImageListItem, 'excluded'> & { excluded: number }>;
  return { total, items: items.map((r) => ({ ...r, excluded: r.excluded === 1 })) };
}

/** Everything about one image; not_found for an unknown id. */
export function getImage(db: Database, id: number): ImageDetail {
  const row = db
    .prepare(
      `SELECT ${LIST_COLUMNS}, i.dataset_id AS datasetId, i.path, i.relative_path AS relativePath, i.sha256, i.size AS sizeBytes,
              i.mtime_ms AS mtime, i.status, i.split_source AS splitSource, o.name AS originalClassName, i.indexed_at AS indexedAt
       FROM images i JOIN classes c ON c.id = i.class_id JOIN classes o ON o.id = i.original_class_id WHERE i.id = ?`,
    )
    .get(id) as (Omit<ImageDetail, 'excluded'> & { excluded: number }) | undefined;
  if (!row) {throw new ApiError('not_found', `No image with id ${id}.`);}
  return { ...row, excluded: row.excluded === 1 };
}

/** Relabels, moves or (un)excludes images in the library (never their files), journaling the edit; returns rows changed. */
export function updateImages(db: Database, edit: { ids: number[]; classId?: number | undefined; split?: SplitName | undefined; excluded?: boolean | undefined }): number {
  return db.transaction(() => {
    const ids = JSON.stringify([...new Set(edit.ids)]);
    const found = db.prepare('SELECT dataset_id AS datasetId, COUNT(*) AS n FROM images WHERE id IN (SELECT value FROM json_each(?)) GROUP BY dataset_id').all(ids) as Array<{ datasetId: number; n: number }>;
    const count = found.reduce((sum, r) => sum + r.n, 0);
    const unique = new Set(edit.ids).size;
    if (count !== unique) {throw new ApiError('not_found', `${unique - count} of the ${unique} image ids do not exist.`);}
    const sets: string[] = [];
    const args: Array<string | number> = [];
    if (edit.classId !== undefined) {
      const cls = db.prepare('SELECT dataset_id AS datasetId, name FROM classes WHERE id = ?').get(edit.classId) as { datasetId: number; name: string } | undefined;
      if (!cls) {throw new ApiError('not_found', `No class with id ${edit.classId}.`);}
      if (found.some((r) => r.datasetId !== cls.datasetId)) {throw new ApiError('bad_request', `Class ${cls.name} belongs to another dataset than some of these images.`);}
      sets.push('class_id = ?');
      args.push(edit.classId);
    }
    if (edit.split !== undefined) {
      sets.push(`split = ?, split_source = 'manual'`);
      args.push(edit.split);
    }
    if (edit.excluded !== undefined) {
      sets.push('excluded = ?');
      args.push(edit.excluded ? 1 : 0);
    }
    const changed = db.prepare(`UPDATE images SET ${sets.join(', ')} WHERE id IN (SELECT value FROM json_each(?))`).run(...args, ids).changes;
    if (edit.split !== undefined) {
      for (const { datasetId } of found) {db.prepare('UPDATE datasets SET split_given = 0 WHERE id = ?').run(datasetId);}
    }
    const shown = edit.ids.length > 20 ? `${edit.ids.slice(0, 20).join(',')},… (${edit.ids.length})` : edit.ids.join(',');
    const what = { classId: edit.classId, split: edit.split, excluded: edit.excluded };
    journal(db, 'images.update', `datasets ${found.map((r) => r.datasetId).join(',')}: images ${shown} ← ${JSON.stringify(what)}`);
    return changed;
  })();
}
