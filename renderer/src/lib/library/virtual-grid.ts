// Pure layout math for the virtualised thumbnail grid: fixed cell size, rows rendered only near the viewport.

/** The grid's geometry for one container width. */
export interface GridLayout {
  columns: number;
  rows: number;
  cellWidth: number;
  rowHeight: number;
  totalHeight: number;
}

/** A half-open range of rows [first, last) to render, and the items they hold. */
export interface VisibleRange {
  firstRow: number;
  lastRow: number;
  firstIndex: number;
  lastIndex: number;
}

/** Lays `count` items into as many columns of at least `minCell` px as `width` allows; rows are `cell + gap` tall. */
export function gridLayout(count: number, width: number, minCell: number, gap: number): GridLayout {
  const columns = Math.max(1, Math.floor((width + gap) / (minCell + gap)));
  const cellWidth = Math.max(minCell, Math.floor((width - gap * (columns - 1)) / columns));
  const rows = Math.ceil(count / columns);
  const rowHeight = cellWidth + gap;
  return { columns, rows, cellWidth, rowHeight, totalHeight: Math.max(0, rows * rowHeight - gap) };
}

/** Rows intersecting [scrollTop, scrollTop + height], widened by `overscan` rows each side. */
export function visibleRange(layout: GridLayout, count: number, scrollTop: number, height: number, overscan: number): VisibleRange {
  if (count === 0 || layout.rows === 0) {
    return { firstRow: 0, lastRow: 0, firstIndex: 0, lastIndex: 0 };
  }
  const firstRow = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscan);
  const lastRow = Math.min(layout.rows, Math.ceil((scrollTop + height) / layout.rowHeight) + overscan);
  return {
    firstRow,
    lastRow,
    firstIndex: firstRow * layout.columns,
    lastIndex: Math.min(count, lastRow * layout.columns),
  };
}

/** Page numbers (of `pageSize` items) that cover items [first, last). */
export function pagesFor(first: number, last: number, pageSize: number): number[] {
  if (last <= first) {
    return [];
  }
  const pages: number[] = [];
  for (let p = Math.floor(first / pageSize); p <= Math.floor((last - 1) / pageSize); p++) {
    pages.push(p);
  }
  return pages;
}

/** The scrollTop that brings item `index` fully into a viewport of `height`, or null if it already is. */
export function scrollToReveal(layout: GridLayout, index: number, scrollTop: number, height: number): number | null {
  const top = Math.floor(index / layout.columns) * layout.rowHeight;
  const bottom = top + layout.cellWidth;
  if (top < scrollTop) {
    return top;
  }
  if (bottom > scrollTop + height) {
    return bottom - height;
  }
  return null;
}

/** Cached pages to drop so at most `max` stay: those farthest from the middle of the visible range. */
export function pagesToEvict(cached: Iterable<number>, range: readonly [number, number], pageSize: number, max: number): number[] {
  const keys = [...cached];
  if (keys.length <= max) {
    return [];
  }
  const centre = Math.floor((range[0] + range[1]) / 2 / pageSize);
  return keys.sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre)).slice(0, keys.length - max);
}

/** Cached pages that start past the end of a list of `total` items (the first page always stays). */
export function pagesPastEnd(cached: Iterable<number>, total: number, pageSize: number): number[] {
  return [...cached].filter((key) => key > 0 && key * pageSize >= total);
}
