// Pure helpers for line charts: series with their own x values merged onto one x axis (uPlot's aligned data).

/** One line: its name, colour (a CSS colour or `var(--x)`), points, and how it is drawn. */
export interface LineSeries {
  label: string;
  color: string;
  points: ReadonlyArray<{ x: number; y: number | null }>;
  /** Draw a marker on every point (for sparse, per-epoch series). */
  markers?: boolean;
  dash?: number[];
  width?: number;
}

/** Aligned columns: the sorted union of every x, then each series' y at those x (null where it has none). */
export function alignSeries(series: readonly LineSeries[]): [number[], ...(number | null)[][]] {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const ys: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const p of s.points) {
      ys[index.get(p.x)!] = p.y !== null && Number.isFinite(p.y) ? p.y : null;
    }
    return ys;
  });
  return [xs, ...columns];
}

/** How many drawable points the series hold in all. */
export function pointCount(series: readonly LineSeries[]): number {
  return series.reduce((n, s) => n + s.points.filter((p) => p.y !== null && Number.isFinite(p.y)).length, 0);
}

/** Resolves `var(--name)` against an element's computed style (a canvas cannot read CSS variables). */
export function resolveColor(el: Element, color: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(color.trim());
  if (!m) {
    return color;
  }
  return getComputedStyle(el).getPropertyValue(m[1]!).trim() || '#888';
}
