// The bench's result rows, ratio math, the printed table and the JSON file: pure functions, unit-tested.
import fs from 'node:fs';
import path from 'node:path';

/** One measured figure: ConvNet Studio's number, its peer's from the same run, and ours / peer. */
export interface Row {
  /** Figure number in bench/README.md (1 training, 2 inference, 3 loader, 4 indexing, 5 memory, 6 UI). */
  figure: number;
  /** Stable key, e.g. `train.alexnet-small.32px.b64.wasm`. */
  id: string;
  /** What was measured, in words. */
  what: string;
  unit: string;
  /** Which direction is good for `ours` (and so for the ratio). */
  better: 'higher' | 'lower';
  ours: number | null;
  /** Who the peer is, e.g. `PyTorch 1.13 CPU, 1 thread`. */
  peerName: string;
  peer: number | null;
  /** ours / peer (of the medians); null when either side is missing. */
  ratio: number | null;
  /** Median of ours / peer per repetition, when both sides were timed alternately in pairs: steadier under load. */
  pairedRatio?: number | null;
  /** Every timed repetition, for the JSON (medians are what the row shows). */
  samples?: { ours: number[]; peer: number[] };
  /** Why the row has no numbers, when it has none. */
  skipped?: string;
  note?: string;
}

/** The JSON written to bench/results/<timestamp>.json. */
export interface BenchResult {
  suite: 'convnet-studio-bench';
  version: 1;
  mode: 'quick' | 'full' | 'gpu';
  startedAt: string;
  seconds: number;
  machine: { platform: string; cpus: number; cpuModel: string; memoryBytes: number; loadAverageStart: number[]; loadAverageEnd: number[]; node: string };
  peer: { python: string | null; torch: string | null; reason: string | null };
  threads: { wasm: number | null; torch: number; note: string };
  rows: Row[];
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    throw new Error('median of an empty list');
  }
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0–100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) {
    throw new Error('percentile of an empty list');
  }
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

/** ours / peer, or null when either is missing, not finite, or the peer is 0. */
export function ratio(ours: number | null, peer: number | null): number | null {
  if (ours === null || peer === null || !Number.isFinite(ours) || !Number.isFinite(peer) || peer === 0) {
    return null;
  }
  return ours / peer;
}

/** Median of the per-repetition ratios of two paired sample lists; null unless they pair up. */
export function pairedRatio(ours: readonly number[], peer: readonly number[]): number | null {
  if (ours.length === 0 || ours.length !== peer.length) {
    return null;
  }
  const ratios = ours.map((o, i) => ratio(o, peer[i]!)).filter((r): r is number => r !== null);
  return ratios.length === ours.length ? median(ratios) : null;
}

/** A row with its ratio filled in from `ours` and `peer`. */
export function makeRow(r: Omit<Row, 'ratio'>): Row {
  return { ...r, ratio: ratio(r.ours, r.peer) };
}

/** A row that could not be measured, with the reason. */
export function skippedRow(r: Pick<Row, 'figure' | 'id' | 'what' | 'unit' | 'better' | 'peerName'>, reason: string): Row {
  return { ...r, ours: null, peer: null, ratio: null, skipped: reason };
}

function num(v: number | null, unit: string): string {
  if (v === null) {
    return '—';
  }
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v !== 0 && Math.abs(v) < 0.1 ? v.toPrecision(2) : v.toFixed(digits)} ${unit}`;
}

/** The table the bench prints: one line per row, skipped rows with their reason. */
export function formatTable(rows: readonly Row[]): string {
  const head = ['#', 'what', 'ConvNet Studio', 'peer (same run)', 'ratio', 'peer is'];
  const body = rows.map((r) => [
    String(r.figure),
    r.what,
    num(r.ours, r.unit),
    num(r.peer, r.unit),
    r.ratio === null ? '—' : `${r.ratio >= 0.1 ? r.ratio.toFixed(2) : r.ratio.toPrecision(2)}${r.better === 'lower' ? ' (lower=better)' : ''}`,
    r.peerName,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  for (const r of rows) {
    if (r.skipped) {
      out.push(`  skipped ${r.id}: ${r.skipped}`);
    } else if (r.note) {
      out.push(`  note ${r.id}: ${r.note}`);
    }
  }
  return out.join('\n');
}

/** A file name for a result: its start time, safe on every OS (`2025-01-02T03-04-05Z.json`). */
export function resultFileName(startedAt: Date): string {
  return `${startedAt.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`;
}

/** Writes the result under `dir` (created if missing); returns the file's path. */
export function writeResult(dir: string, result: BenchResult): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, resultFileName(new Date(result.startedAt)));
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}
