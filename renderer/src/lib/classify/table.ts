// The results table's rows: sorting and the low-confidence filter, as pure functions.
import { fileName } from './format';
import type { ClassifiedImage, Prediction } from './types';

/** One classified image as the table shows it. */
export interface ResultRow {
  /** Position in input order (the default sort). */
  index: number;
  path: string;
  name: string;
  top1: string;
  confidence: number;
  predictions: Prediction[];
}

/** Columns the table sorts by. */
export type SortKey = 'index' | 'name' | 'top1' | 'confidence';
/** Sort direction. */
export type SortDir = 'asc' | 'desc';

/** Rows of classified images, in input order. */
export function toRows(items: readonly ClassifiedImage[]): ResultRow[] {
  return items.map((item, index) => ({
    index,
    path: item.path,
    name: fileName(item.path),
    top1: item.predictions[0]?.label ?? '',
    confidence: item.predictions[0]?.probability ?? 0,
    predictions: item.predictions,
  }));
}

/** Rows sorted by a column (ties keep input order); a new array. */
export function sortRows(rows: readonly ResultRow[], key: SortKey, dir: SortDir): ResultRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  const compare = (a: ResultRow, b: ResultRow): number => {
    switch (key) {
      case 'name':
        return a.name.localeCompare(b.name, undefined, { numeric: true });
      case 'top1':
        return a.top1.localeCompare(b.top1);
      case 'confidence':
        return a.confidence - b.confidence;
      default:
        return a.index - b.index;
    }
  };
  return [...rows].sort((a, b) => sign * compare(a, b) || a.index - b.index);
}

/** Rows whose top-1 confidence is at most `threshold` (0–1); 1 keeps every row. */
export function filterLowConfidence(rows: readonly ResultRow[], threshold: number): ResultRow[] {
  return threshold >= 1 ? [...rows] : rows.filter((r) => r.confidence <= threshold);
}

/** The direction a click on a column header gives: toggles on the same column, else that column's natural one. */
export function nextSort(current: { key: SortKey; dir: SortDir }, key: SortKey): { key: SortKey; dir: SortDir } {
  if (current.key === key) {
    return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  }
  return { key, dir: key === 'confidence' ? 'desc' : 'asc' };
}
