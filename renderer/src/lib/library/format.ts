// Pure formatting helpers for the Library UI: sizes, counts, rates and durations in words.

const nf = new Intl.NumberFormat('en-US');

/** A count with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return nf.format(n);
}

/** A count and its noun, singular or plural: "1 image", "3 images". */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : nouns}`;
}

/** Bytes in the largest unit that keeps the number readable: 1.4 GB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '—';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Seconds as a short duration: "42 s", "3 min 5 s", "1 h 12 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    return '—';
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s} s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ${s % 60} s`;
  }
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A per-second rate: "1,234 files/s", or "—" while unknown. */
export function formatRate(perSecond: number | null | undefined, noun = 'files'): string {
  if (perSecond == null || !Number.isFinite(perSecond) || perSecond <= 0) {
    return '—';
  }
  return `${perSecond >= 10 ? formatCount(Math.round(perSecond)) : perSecond.toFixed(1)} ${noun}/s`;
}

/** A fraction as a percentage with no decimals: "42%". */
export function formatPercent(fraction: number): string {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

/** The last segment of a path, for either separator. */
export function baseName(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}
