import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../images/prng.js';

/** The layer whose activations serve as an image's feature (the paper's last hidden layer, §6.1 / Fig. 4). */
export const FEATURE_LAYER = 'fc7';

/** Feature vectors of one (run, split): row i of `values` (width `dim`) belongs to image `ids[i]`. */
export interface FeatureSet {
  ids: Int32Array;
  values: Float32Array;
  dim: number;
}

/** Width of the random projection that wider features are searched in (candidates are then re-ranked exactly). */
export const PROJECTED_DIM = 256;

/** Files of a split's features in a run folder: raw little-endian float32 rows, int32 image ids, and the projected rows. */
export function featureFiles(runDir: string, split: string): { values: string; ids: string; projected: string } {
  return {
    values: path.join(runDir, `features-${split}.f32`),
    ids: path.join(runDir, `features-${split}.ids`),
    projected: path.join(runDir, `features-${split}.p${PROJECTED_DIM}.f32`),
  };
}

/**
 * The fixed [dim × PROJECTED_DIM] random ±1/√k matrix (Achlioptas' Johnson–Lindenstrauss projection):
 * it keeps Euclidean distances within a small factor, so the nearest rows in 256 dimensions are a
 * good candidate set for the exact search in 4096. Seeded, so every split of every run agrees.
 */
export function projectionMatrix(dim: number): Float32Array {
  const rng = Rng.fromSeed(dim, 'fc7-projection');
  const scale = 1 / Math.sqrt(PROJECTED_DIM);
  return Float32Array.from({ length: dim * PROJECTED_DIM }, () => (rng.chance() ? scale : -scale));
}

/** Writes a split's features atomically (temp files, then renames; ids last so a half-written set is never read as whole); `projected` for wide ones. */
export function writeFeatures(runDir: string, split: string, set: FeatureSet, projected?: Float32Array): void {
  const files = featureFiles(runDir, split);
  if (set.values.length !== set.ids.length * set.dim) {
    throw new Error(`features: ${set.values.length} values do not make ${set.ids.length} rows of ${set.dim}`);
  }
  fs.mkdirSync(runDir, { recursive: true });
  const write = (file: string, bytes: ArrayBufferView): void => {
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    fs.renameSync(tmp, file);
  };
  fs.rmSync(files.ids, { force: true });
  fs.rmSync(files.projected, { force: true });
  write(files.values, set.values);
  if (projected) {
    write(files.projected, projected);
  }
  write(files.ids, set.ids);
}

/** Reads a split's features (the projected rows when `projected` and they exist), or null when none were written. */
export function readFeatures(runDir: string, split: string, projected = false): FeatureSet | null {
  const files = featureFiles(runDir, split);
  const valuesFile = projected && fs.existsSync(files.projected) ? files.projected : files.values;
  if (!fs.existsSync(files.ids) || !fs.existsSync(valuesFile)) {
    return null;
  }
  const idBytes = fs.readFileSync(files.ids);
  const valueBytes = fs.readFileSync(valuesFile);
  const ids = new Int32Array(idBytes.buffer.slice(idBytes.byteOffset, idBytes.byteOffset + idBytes.byteLength));
  const values = new Float32Array(valueBytes.buffer.slice(valueBytes.byteOffset, valueBytes.byteOffset + valueBytes.byteLength));
  if (ids.length === 0 || values.length % ids.length !== 0) {
    throw new Error(`The feature files of split ${split} in ${runDir} do not match; recompute them with runs.predict.`);
  }
  return { ids, values, dim: values.length / ids.length };
}

/** Squared length of each row (precomputed once per set, so a query costs one dot product per row). */
export function rowNorms(set: FeatureSet): Float64Array {
  const norms = new Float64Array(set.ids.length);
  for (let r = 0; r < set.ids.length; r++) {
    let s = 0;
    const o = r * set.dim;
    for (let d = 0; d < set.dim; d++) {
      const v = set.values[o + d]!;
      s += v * v;
    }
    norms[r] = s;
  }
  return norms;
}

/**
 * The k rows nearest to `query` by Euclidean distance, nearest first (ties by row order), by brute force:
 * ‖q − x‖² = ‖q‖² + ‖x‖² − 2 q·x, keeping the k best in a small sorted buffer.
 */
export function nearestRows(set: FeatureSet, norms: Float64Array, query: Float32Array, k: number): Array<{ row: number; distance: number }> {
  const { dim, values } = set;
  let qq = 0;
  for (let d = 0; d < dim; d++) {
    qq += query[d]! * query[d]!;
  }
  const best: Array<{ row: number; d2: number }> = [];
  const rows = set.ids.length;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    const o = r * dim;
    for (let d = 0; d < dim; d++) {
      dot += query[d]! * values[o + d]!;
    }
    const d2 = Math.max(0, qq + norms[r]! - 2 * dot);
    if (best.length < k || d2 < best[best.length - 1]!.d2) {
      let i = best.length < k ? best.length : best.length - 1;
      best[i] = { row: r, d2 };
      while (i > 0 && best[i - 1]!.d2 > d2) {
        best[i] = best[i - 1]!;
        best[i - 1] = { row: r, d2 };
        i--;
      }
    }
  }
  // The expansion loses precision for near-equal vectors; the winners' distances are recomputed directly.
  return best.map((b) => {
    let s = 0;
    const o = b.row * dim;
    for (let d = 0; d < dim; d++) {
      const diff = query[d]! - values[o + d]!;
      s += diff * diff;
    }
    return { row: b.row, distance: Math.sqrt(s) };
  });
}

/** Row `row` of a set, as a view. */
export function featureRow(set: FeatureSet, row: number): Float32Array {
  return set.values.subarray(row * set.dim, (row + 1) * set.dim);
}

/** Reads some full-width rows of a split's feature file by row index (for the exact re-ranking), without loading the file. */
export function readFeatureRows(runDir: string, split: string, dim: number, rows: number[]): Float32Array[] {
  const fd = fs.openSync(featureFiles(runDir, split).values, 'r');
  try {
    return rows.map((row) => {
      const out = new Float32Array(dim);
      fs.readSync(fd, new Uint8Array(out.buffer), 0, dim * 4, row * dim * 4);
      return out;
    });
  } finally {
    fs.closeSync(fd);
  }
}

/** Euclidean distance of two rows. */
export function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) {
    const diff = a[d]! - b[d]!;
    s += diff * diff;
  }
  return Math.sqrt(s);
}
