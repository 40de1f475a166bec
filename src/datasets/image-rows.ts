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

/** A key of the list and its exact position in it. */
interface Point {
  key: Key;
  position: number;
}

interface Anchors {
  version: string;
  /** In list order; found every ANCHOR_EVERY items, then kept exact through edits made here (see anchorRepair). */
  points: Point[];
  /** True once the end of the list was reached while finding them. */
  complete: boolean;
}

/** A page further than this from its anchor (anchors lost to edits) finds the anchors again. */
const MAX_GAP = 8 * ANCHOR_EVERY;

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
function countFilter(q: Pick<ImageQuery, 'datasetId' | 'classId' | 'split' | 'status'>): { clause: string; args: Array<string | number> } {
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

/** How many images a filter (without search) matches, and the version of that list. */
function countsHead(db: Database, q: Pick<ImageQuery, 'datasetId' | 'classId' | 'split' | 'status'>): { n: number; version: string } {
  const counts = countFilter(q);
  const head = db
    .prepare(`SELECT COALESCE(SUM(k.n), 0) AS n, COALESCE(SUM(k.edits), 0) AS edits, (SELECT created_at FROM datasets WHERE id = ?) AS born FROM image_counts k WHERE ${counts.clause}`)
    .get(q.datasetId, ...counts.args) as { n: number; edits: number; born: number | null };
  // The dataset's birth tells a dataset from a later one that reused its id; edits only grow while it lives.
  return { n: head.n, version: `${head.born ?? 0}.${head.edits}` };
}

function listInSnapshot(db: Database, q: ImageQuery): ImagePage {
  const head = countsHead(db, q);
  const version = head.version;
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
    const keyAt = (clause: string) => db.prepare(`SELECT ${sort.key.join(', ')} FROM ${tables} WHERE ${clause} ORDER BY ${sort.order} LIMIT 1 OFFSET ?`).raw();
    const first = keyAt(where.join(' AND '));
    const following = keyAt([...where, sort.after].join(' AND '));
    const anchor = anchorFor(cache, filterKey, version, q.offset, (after) =>
      after ? (following.get(...args, ...keyArgs(q.sort, after), ANCHOR_EVERY - 1) as Key | undefined) : (first.get(...args, 0) as Key | undefined),
    );
    rows = anchor ? selectPage(sort.from, keyArgs(q.sort, anchor.key), q.limit, q.offset - anchor.position) : [];
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

/** The last anchor at or before `offset`, finding the list's anchors as far as needed; undefined for an empty list. */
function anchorFor(cache: ListCache, filterKey: string, version: string, offset: number, step: (after: Key | null) => Key | undefined): Point | undefined {
  let anchors = recall(cache.anchors, filterKey);
  const fresh = !anchors || anchors.version !== version;
  if (!anchors || fresh) {
    anchors = { version, points: [], complete: false };
    remember(cache.anchors, filterKey, anchors);
  }
  const { points } = anchors;
  while (!anchors.complete && (points.length === 0 || points[points.length - 1]!.position + ANCHOR_EVERY <= offset)) {
    const last = points[points.length - 1];
    const key = step(last?.key ?? null);
    if (key) {points.push({ key, position: last ? last.position + ANCHOR_EVERY : 0 });} else {anchors.complete = true;}
  }
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (points[mid]!.position <= offset) {lo = mid;} else {hi = mid - 1;}
  }
  const found = points[lo];
  // Edits dropped the anchors near this page (their images left the list): find them all again.
  if (!fresh && (!found || found.position > offset || offset - found.position > MAX_GAP)) {
    anchors.version = '';
    return anchorFor(cache, filterKey, version, offset, step);
  }
  return found && found.position <= offset ? found : undefined;
}

/** SQLite's order of two key values: numbers by value, text by its UTF-8 bytes (the BINARY collation). */
function compareValue(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') {return a - b;}
  if (typeof a === 'number') {return -1;}
  if (typeof b === 'number') {return 1;}
  // UTF-16 order is UTF-8 byte order except where surrogates meet U+E000–U+FFFF.
  if (!WIDE.test(a) && !WIDE.test(b)) {return a < b ? -1 : a > b ? 1 : 0;}
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const WIDE = /[\uD800-\uFFFF]/;

function compareKeys(sort: ImageQuery['sort'], a: Key, b: Key): number {
  if (sort === 'size') {return compareValue(b[0]!, a[0]!) || compareValue(a[1]!, b[1]!);}
  for (let i = 0; i < a.length; i++) {
    const d = compareValue(a[i]!, b[i]!);
    if (d !== 0) {return d;}
  }
  return 0;
}

/** What a list's filter and sort need of one image. */
interface Member {
  id: number;
  datasetId: number;
  fileName: string;
  classId: number;
  className: string;
  split: string;
  status: string;
  excluded: number;
  size: number;
}

function readMembers(db: Database, ids: string): Map<number, Member> {
  const rows = db
    .prepare(
      `SELECT i.id, i.dataset_id AS datasetId, i.file_name AS fileName, i.class_id AS classId, c.name AS className, i.split, i.status, i.excluded, i.size
       FROM images i JOIN classes c ON c.id = i.class_id WHERE i.id IN (SELECT value FROM json_each(?))`,
    )
    .all(ids) as Member[];
  return new Map(rows.map((r) => [r.id, r]));
}

type ListFilter = [datasetId: number, classId: number | null, split: SplitName | null, status: ImageQuery['status'], sort: ImageQuery['sort']];

function memberOf(f: ListFilter, m: Member | undefined): boolean {
  if (!m || m.datasetId !== f[0] || (f[1] !== null && m.classId !== f[1]) || (f[2] !== null && m.split !== f[2])) {return false;}
  return f[3] === 'ok' ? m.status === 'ok' && m.excluded === 0 : f[3] === 'excluded' ? m.excluded === 1 : true;
}

function memberKey(sort: ImageQuery['sort'], m: Member): Key {
  return sort === 'name' ? [m.fileName, m.id] : sort === 'added' ? [m.id] : sort === 'class' ? [m.className, m.fileName, m.id] : [m.size, m.id];
}

/** Edits touching more images than this make the lists find their anchors again instead. */
const MAX_REPAIR = 5000;

/** The index of the first point whose key is greater than (or, with `orEqual`, at least) `key`. */
function firstAfter(sort: ImageQuery['sort'], points: readonly Point[], key: Key, orEqual: boolean): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const d = compareKeys(sort, points[mid]!.key, key);
    if (d > 0 || (orEqual && d === 0)) {hi = mid;} else {lo = mid + 1;}
  }
  return lo;
}

/**
 * Keeps the anchors of the lists an edit touches exact, so a jump after an edit made in the gallery needs no
 * new pass over the index. Runs inside the edit's write transaction: call it before the change and the
 * returned function after it. Lists whose anchors were already stale are left to be found again.
 */
function anchorRepair(db: Database, ids: string, count: number, datasetIds: ReadonlySet<number>): () => void {
  const cache = caches.get(db);
  if (!cache) {return () => undefined;}
  const headOf = (f: ListFilter) => countsHead(db, { datasetId: f[0], classId: f[1] ?? undefined, split: f[2] ?? undefined, status: f[3] });
  const lists = [...cache.anchors.entries()]
    .map(([key, anchors]) => ({ anchors, filter: JSON.parse(key) as ListFilter }))
    .filter((l) => datasetIds.has(l.filter[0]) && l.anchors.version !== '' && headOf(l.filter).version === l.anchors.version);
  if (lists.length === 0) {return () => undefined;}
  if (count > MAX_REPAIR) {
    return () => lists.forEach((l) => (l.anchors.version = ''));
  }
  const before = readMembers(db, ids);
  return () => {
    const after = readMembers(db, ids);
    for (const { anchors, filter } of lists) {
      const sort = filter[4];
      const points = anchors.points;
      for (const old of before.values()) {
        if (!memberOf(filter, old)) {continue;}
        const key = memberKey(sort, old);
        const at = firstAfter(sort, points, key, true);
        // The image leaves the list: an anchor on it goes, the ones after it move up.
        const drop = at < points.length && compareKeys(sort, points[at]!.key, key) === 0 ? 1 : 0;
        points.splice(at, drop);
        for (let i = at; i < points.length; i++) {points[i]!.position--;}
      }
      for (const now of after.values()) {
        if (!memberOf(filter, now)) {continue;}
        const at = firstAfter(sort, points, memberKey(sort, now), false);
        for (let i = at; i < points.length; i++) {points[i]!.position++;}
      }
      // The last anchor may now be more than ANCHOR_EVERY from the end: let a deep page look further.
      anchors.complete = false;
      anchors.version = headOf(filter).version;
    }
  };
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
              i.mtime_ms AS mtime, i.status, i.error, i.split_source AS splitSource, o.name AS originalClassName, i.indexed_at AS indexedAt
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
    const repaired = anchorRepair(db, ids, unique, new Set(found.map((r) => r.datasetId)));
    const changed = db.prepare(`UPDATE images SET ${sets.join(', ')} WHERE id IN (SELECT value FROM json_each(?))`).run(...args, ids).changes;
    repaired();
    if (edit.split !== undefined) {
      for (const { datasetId } of found) {db.prepare('UPDATE datasets SET split_given = 0 WHERE id = ?').run(datasetId);}
    }
    const shown = edit.ids.length > 20 ? `${edit.ids.slice(0, 20).join(',')},… (${edit.ids.length})` : edit.ids.join(',');
    const what = { classId: edit.classId, split: edit.split, excluded: edit.excluded };
    journal(db, 'images.update', `datasets ${found.map((r) => r.datasetId).join(',')}: images ${shown} ← ${JSON.stringify(what)}`);
    return changed;
  })();
}
