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
  /** The `next` of the page that ends just before `offset` (same filters and sort): a seek instead of a skip. */
  after?: string | undefined;
}

/** One page of `images.list`. */
export interface ImagePage {
  total: number;
  items: ImageListItem[];
  /** Pass as `after` (with `offset` + items.length) for the page that follows; absent on an empty page. */
  next?: string;
}

/** A sort order: the columns of its key, in order, and how keys compare. */
interface SortSpec {
  /** Key expressions, most significant first. */
  key: string[];
  order: string;
  /** Rows strictly after the key given as parameters (one per `key` column). */
  after: string;
  /** Rows at or after the key. */
  from: string;
}

const SORTS: Record<ImageQuery['sort'], SortSpec> = {
  name: { key: ['i.file_name', 'i.id'], order: 'i.file_name, i.id', after: '(i.file_name, i.id) > (?, ?)', from: '(i.file_name, i.id) >= (?, ?)' },
  added: { key: ['i.id'], order: 'i.id', after: 'i.id > ?', from: 'i.id >= ?' },
  class: {
    key: ['c.name', 'i.file_name', 'i.id'],
    order: 'c.name, i.file_name, i.id',
    after: 'c.name >= ? AND (c.name, i.file_name, i.id) > (?, ?, ?)',
    from: 'c.name >= ? AND (c.name, i.file_name, i.id) >= (?, ?, ?)',
  },
  size: { key: ['i.size', 'i.id'], order: 'i.size DESC, i.id', after: '(i.size < ? OR (i.size = ? AND i.id > ?))', from: '(i.size < ? OR (i.size = ? AND i.id >= ?))' },
};

type Key = Array<string | number>;

/** The parameters of a sort's `after`/`from` condition for one key. */
function keyArgs(sort: ImageQuery['sort'], key: Key): Key {
  if (sort === 'class') {return [key[0]!, ...key];}
  if (sort === 'size') {return [key[0]!, ...key];}
  return key;
}

/** Rows a deep page starts from: every ANCHOR_EVERY-th key of a filtered, sorted list. */
const ANCHOR_EVERY = 1024;
/** Anchored lists and search totals kept per connection (the least recently used go first). */
const CACHE_ENTRIES = 16;

interface Anchors {
  version: string;
  keys: Key[];
  /** True once the last anchor of the list is known. */
  complete: boolean;
}

interface ListCache {
  anchors: Map<string, Anchors>;
  searchTotals: Map<string, { version: string; total: number }>;
}

const caches = new WeakMap<Database, ListCache>();

function cacheOf(db: Database): ListCache {
  let cache = caches.get(db);
  if (!cache) {
    cache = { anchors: new Map(), searchTotals: new Map() };
    caches.set(db, cache);
  }
  return cache;
}

/** Gets `key` from an LRU map, refreshing its place. */
function recall<V>(map: Map<string, V>, key: string): V | undefined {
  const value = map.get(key);
  if (value !== undefined) {
    map.delete(key);
    map.set(key, value);
  }
  return value;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > CACHE_ENTRIES) {map.delete(map.keys().next().value!);}
}

const LIST_COLUMNS = `i.id, i.file_name AS fileName, i.class_id AS classId, c.name AS className, i.split, i.width, i.height, i.format, i.excluded`;

type Row = Omit<ImageListItem, 'excluded'> & { excluded: number; sizeKey: number };

/** The filter conditions on `image_counts` (alias k) that match a query without its search. */
function countFilter(q: ImageQuery): { clause: string; args: Array<string | number> } {
  const where = ['k.dataset_id = ?'];
  const args: Array<string | number> = [q.datasetId];
  if (q.classId !== undefined) {
    where.push('k.class_id = ?');
    args.push(q.classId);
  }
  if (q.split !== undefined) {
    where.push('k.split = ?');
    args.push(q.split);
  }
  if (q.status === 'ok') {where.push(`k.status = 'ok' AND k.excluded = 0`);}
  if (q.status === 'excluded') {where.push('k.excluded = 1');}
  return { clause: where.join(' AND '), args };
}

/**
 * One page of a dataset's images with the number that match. Totals come from the counts the triggers
 * keep (a COUNT only for a file-name search, remembered until the list changes); a page is a seek in a
 * covering index: from the previous page's key when the caller passes it, else from the nearest of the
 * anchors (every 1024th key, found once per version of the list) and a skip of at most 1023 entries.
 */
export function listImages(db: Database, q: ImageQuery): ImagePage {
  return db.transaction(() => listInSnapshot(db, q))();
}

function listInSnapshot(db: Database, q: ImageQuery): ImagePage {
  const counts = countFilter(q);
  const head = db
    .prepare(`SELECT COALESCE(SUM(k.n), 0) AS n, COALESCE(SUM(k.edits), 0) AS edits, (SELECT created_at FROM datasets WHERE id = ?) AS born FROM image_counts k WHERE ${counts.clause}`)
    .get(q.datasetId, ...counts.args) as { n: number; edits: number; born: number | null };
  // The dataset's birth tells a dataset from a later one that reused its id; edits only grow while it lives.
  const version = `${head.born ?? 0}.${head.edits}`;
  const sort = SORTS[q.sort];
  const filterKey = JSON.stringify([q.datasetId, q.classId ?? null, q.split ?? null, q.status, q.sort]);
  const cache = cacheOf(db);

  const where = [q.sort === 'class' ? 'c.dataset_id = ? AND i.dataset_id = c.dataset_id' : 'i.dataset_id = ?'];
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

  let total = head.n;
  if (q.search) {
    const searchKey = JSON.stringify([filterKey, q.search]);
    const known = recall(cache.searchTotals, searchKey);
    if (known?.version === version) {
      total = known.total;
    } else {
      total = (db.prepare(`SELECT COUNT(*) AS n FROM images i WHERE ${where.join(' AND ').replace('c.dataset_id = ? AND i.dataset_id = c.dataset_id', 'i.dataset_id = ?')}`).get(...args) as { n: number }).n;
      remember(cache.searchTotals, searchKey, { version, total });
    }
  }

  // A large dataset in id order is read in rowid order; otherwise the planner sorts the (few) rows the index finds.
  if (q.sort === 'added' && q.classId === undefined && total > 20_000) {where[0] = '+i.dataset_id = ?';}
  const tables = q.sort === 'class' ? 'classes c CROSS JOIN images i ON i.class_id = c.id' : 'images i';
  const selectPage = (extra: string | null, extraArgs: Key, limit: number, offset: number): Row[] => {
    const clause = [...where, ...(extra ? [extra] : [])].join(' AND ');
    const pageIds = `SELECT i.id FROM ${tables} WHERE ${clause} ORDER BY ${sort.order} LIMIT ? OFFSET ?`;
    return db
      .prepare(`SELECT ${LIST_COLUMNS}, i.size AS sizeKey FROM (${pageIds}) AS page JOIN images i ON i.id = page.id JOIN classes c ON c.id = i.class_id ORDER BY ${sort.order}`)
      .all(...args, ...extraArgs, limit, offset) as Row[];
  };

  let rows: Row[] | undefined;
  const cursor = q.after === undefined ? undefined : readCursor(q.after);
  if (cursor && cursor.version === version && cursor.filter === JSON.stringify([filterKey, q.search ?? '']) && cursor.key.length === sort.key.length) {
    rows = selectPage(sort.after, keyArgs(q.sort, cursor.key), q.limit, 0);
  } else if (q.offset >= total) {
    rows = [];
  } else if (q.offset < ANCHOR_EVERY || q.search) {
    rows = selectPage(null, [], q.limit, q.offset);
  } else {
    const slot = Math.floor(q.offset / ANCHOR_EVERY);
    const keyAt = (clause: string) => db.prepare(`SELECT ${sort.key.join(', ')} FROM ${tables} WHERE ${clause} ORDER BY ${sort.order} LIMIT 1 OFFSET ?`).raw();
    const first = keyAt(where.join(' AND '));
    const following = keyAt([...where, sort.after].join(' AND '));
    const anchor = anchorAt(cache, filterKey, version, slot, (after) =>
      after ? (following.get(...args, ...keyArgs(q.sort, after), ANCHOR_EVERY - 1) as Key | undefined) : (first.get(...args, 0) as Key | undefined),
    );
    rows = anchor ? selectPage(sort.from, keyArgs(q.sort, anchor), q.limit, q.offset - slot * ANCHOR_EVERY) : [];
  }

  const items = rows.map(({ sizeKey: _size, ...r }) => ({ ...r, excluded: r.excluded === 1 }));
  const last = rows[rows.length - 1];
  const page: ImagePage = { total, items };
  if (last) {
    const key: Key = q.sort === 'name' ? [last.fileName, last.id] : q.sort === 'added' ? [last.id] : q.sort === 'class' ? [last.className, last.fileName, last.id] : [last.sizeKey, last.id];
    page.next = writeCursor({ version, filter: JSON.stringify([filterKey, q.search ?? '']), key });
  }
  return page;
}

/** The anchor (key of the item at slot × ANCHOR_EVERY), extending the list's anchors as far as needed; undefined past the end. */
function anchorAt(cache: ListCache, filterKey: string, version: string, slot: number, step: (after: Key | null) => Key | undefined): Key | undefined {
  let anchors = recall(cache.anchors, filterKey);
  if (!anchors || anchors.version !== version) {
    anchors = { version, keys: [], complete: false };
    remember(cache.anchors, filterKey, anchors);
  }
  while (anchors.keys.length <= slot && !anchors.complete) {
    const next = step(anchors.keys.length === 0 ? null : anchors.keys[anchors.keys.length - 1]!);
    if (next) {anchors.keys.push(next);} else {anchors.complete = true;}
  }
  return anchors.keys[slot];
}

interface Cursor {
  version: string;
  filter: string;
  key: Key;
}

function writeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.version, c.filter, c.key]), 'utf8').toString('base64url');
}

/** The cursor in `after`, or undefined when it is not one of ours (the page then falls back to `offset`). */
function readCursor(text: string): Cursor | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(parsed) || parsed.length !== 3) {return undefined;}
    const [version, filter, key] = parsed as unknown[];
    if (typeof version !== 'string' || typeof filter !== 'string' || !Array.isArray(key) || !key.every((k) => typeof k === 'string' || typeof k === 'number')) {return undefined;}
    return { version, filter, key: key as Key };
  } catch {
    return undefined;
  }
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
