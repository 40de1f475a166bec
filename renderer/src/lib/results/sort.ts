// Pure table sorting: by one key, either direction, missing values always last.

/** Which column a table is sorted by, and which way. */
export interface SortState<K extends string> {
  key: K;
  dir: 'asc' | 'desc';
}

/** A sorted copy of `rows` by `value(row)`; null/undefined/NaN last whatever the direction. */
export function sortRows<T>(rows: readonly T[], value: (row: T) => number | string | null | undefined, dir: 'asc' | 'desc'): T[] {
  const sign = dir === 'asc' ? 1 : -1;
  const missing = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
  return rows
    .map((row, i) => ({ row, i, v: value(row) }))
    .sort((a, b) => {
      if (missing(a.v) || missing(b.v)) {
        return missing(a.v) === missing(b.v) ? a.i - b.i : missing(a.v) ? 1 : -1;
      }
      const c = typeof a.v === 'string' || typeof b.v === 'string' ? String(a.v).localeCompare(String(b.v)) : (a.v as number) - (b.v as number);
      return c === 0 ? a.i - b.i : c * sign;
    })
    .map((x) => x.row);
}

/** The next sort after a click on column `key`: the same column flips, a new one starts at `first`. */
export function nextSort<K extends string>(current: SortState<K>, key: K, first: 'asc' | 'desc' = 'asc'): SortState<K> {
  return current.key === key ? { key, dir: current.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: first };
}

/** `aria-sort` of a header cell. */
export function ariaSort<K extends string>(current: SortState<K>, key: K): 'ascending' | 'descending' | 'none' {
  return current.key === key ? (current.dir === 'asc' ? 'ascending' : 'descending') : 'none';
}
