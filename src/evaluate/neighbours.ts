import fs from 'node:fs';
import { distance, featureFiles, featureRow, nearestRows, readFeatureRows, readFeatures, rowNorms, type FeatureSet } from './features.js';

/** A split's searchable features in memory: the full rows, or their 256-d projection when they are wider. */
export interface CachedFeatures {
  set: FeatureSet;
  norms: Float64Array;
  rowOf: Map<number, number>;
  /** Width of the full rows on disk. */
  fullDim: number;
  projected: boolean;
  mtimeMs: number;
}

/**
 * Feature sets loaded once per (run, split) and kept while their files are unchanged; the few most
 * recently used stay in memory (wide features are held projected: 50k images take 51 MB, not 800 MB).
 */
export class FeatureCache {
  private readonly entries = new Map<string, CachedFeatures>();

  constructor(private readonly capacity = 6) {}

  /** The features of a run's split, or null when none were computed. */
  get(runDir: string, split: string): CachedFeatures | null {
    const key = `${runDir}\0${split}`;
    const files = featureFiles(runDir, split);
    const mtimeMs = fs.statSync(files.ids, { throwIfNoEntry: false })?.mtimeMs;
    const hit = this.entries.get(key);
    this.entries.delete(key);
    if (mtimeMs === undefined) {
      return null;
    }
    if (hit && hit.mtimeMs === mtimeMs) {
      this.entries.set(key, hit);
      return hit;
    }
    const set = readFeatures(runDir, split, true);
    if (!set) {
      return null;
    }
    const fullDim = fs.statSync(files.values).size / 4 / set.ids.length;
    const entry = { set, norms: rowNorms(set), rowOf: new Map(Array.from(set.ids, (id, row) => [id, row])), fullDim, projected: fullDim !== set.dim, mtimeMs };
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }
}

/**
 * The k training images nearest to image `imageId` (of split `split`) in fc7 space, nearest first.
 * Brute force over the cached rows; for projected features the 10·k (at least 100) nearest in the
 * projection are re-ranked by their exact distance, read from the full rows on disk.
 * Null when the image or either split has no stored features.
 */
export function nearestTrainImages(cache: FeatureCache, runDir: string, split: string, imageId: number, k: number): { ids: number[]; distances: number[]; searched: number; dim: number } | null {
  const own = cache.get(runDir, split);
  const train = split === 'train' ? own : cache.get(runDir, 'train');
  const row = own?.rowOf.get(imageId);
  if (!own || !train || row === undefined) {
    return null;
  }
  const query = featureRow(own.set, row);
  const exact = !(own.projected && train.projected);
  let found = nearestRows(train.set, train.norms, query, exact ? k : Math.min(train.set.ids.length, Math.max(100, 10 * k)));
  if (!exact) {
    const [full] = readFeatureRows(runDir, split, own.fullDim, [row]);
    const candidates = readFeatureRows(runDir, 'train', train.fullDim, found.map((f) => f.row));
    found = found
      .map((f, i) => ({ row: f.row, distance: distance(full!, candidates[i]!) }))
      .sort((a, b) => a.distance - b.distance || a.row - b.row)
      .slice(0, k);
  }
  return { ids: found.map((f) => train.set.ids[f.row]!), distances: found.map((f) => f.distance), searched: train.set.ids.length, dim: train.fullDim };
}
