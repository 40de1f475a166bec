// Pure geometry and colour of the confusion heat map, readable from 2 to 100+ classes.

/** Side of one matrix cell in px for `n` classes: big enough for counts when few, a dense map when many. */
export function cellSize(n: number): number {
  return Math.max(8, Math.min(44, Math.floor(640 / Math.max(1, n))));
}

/** Whether cells are big enough to print their numbers. */
export function showsNumbers(n: number): boolean {
  return cellSize(n) >= 26;
}

/** Fill of a cell: the diagonal in the accent colour, confusions in the danger colour, alpha by share of the row. */
export function cellFill(share: number, diagonal: boolean): string {
  const pct = share <= 0 ? 0 : Math.round(12 + Math.min(1, share) * 88);
  return pct === 0 ? 'transparent' : `color-mix(in srgb, var(${diagonal ? '--accent' : '--danger'}) ${pct}%, transparent)`;
}

/** Whether a cell's number needs light text (a dark fill). */
export function darkFill(share: number): boolean {
  return share > 0.5;
}
