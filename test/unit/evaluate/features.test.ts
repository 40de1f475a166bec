import { describe, expect, it } from 'vitest';
import { nearestRows, PROJECTED_DIM, projectionMatrix, readFeatures, rowNorms, writeFeatures, type FeatureSet } from '../../../src/evaluate/features.js';
import { projectRows } from '../../../src/evaluate/evaluate.js';
import { filterGridLayout } from '../../../src/evaluate/filters.js';
import { FeatureCache, nearestTrainImages } from '../../../src/evaluate/neighbours.js';
import { predictionOf } from '../../../src/evaluate/predictions-store.js';
import { Rng } from '../../../src/images/prng.js';
import { tempDir } from '../../helpers/temp.js';

function randomSet(rows: number, dim: number, seed: number): FeatureSet {
  const rng = Rng.fromSeed(seed);
  return { ids: Int32Array.from({ length: rows }, (_, i) => 100 + i), values: Float32Array.from({ length: rows * dim }, () => rng.next() * 4 - 2), dim };
}

describe('fc7 features', () => {
  it('finds the same k nearest rows as a direct search, nearest first', () => {
    const set = randomSet(500, 24, 1);
    const query = randomSet(1, 24, 2).values;
    const direct = Array.from({ length: 500 }, (_, r) => ({
      row: r,
      distance: Math.sqrt(Array.from(query, (q, d) => (q - set.values[r * 24 + d]!) ** 2).reduce((a, b) => a + b, 0)),
    })).sort((a, b) => a.distance - b.distance || a.row - b.row);
    const found = nearestRows(set, rowNorms(set), query, 7);
    expect(found.map((f) => f.row)).toEqual(direct.slice(0, 7).map((d) => d.row));
    found.forEach((f, i) => expect(f.distance).toBeCloseTo(direct[i]!.distance, 5));
    expect(nearestRows(set, rowNorms(set), set.values.subarray(24 * 9, 24 * 10), 1)[0]).toEqual({ row: 9, distance: 0 });
  });

  it('round-trips through the run folder', () => {
    const t = tempDir();
    try {
      const set = randomSet(30, 8, 3);
      expect(readFeatures(t.dir, 'val')).toBeNull();
      writeFeatures(t.dir, 'val', set);
      const back = readFeatures(t.dir, 'val')!;
      expect(back.dim).toBe(8);
      expect(Array.from(back.ids)).toEqual(Array.from(set.ids));
      expect(Array.from(back.values)).toEqual(Array.from(set.values));
    } finally {
      t.cleanup();
    }
  });
});

describe('stored predictions and pictures', () => {
  it('keeps the top-5 of a probability row and whether the true label is in it', () => {
    const p = predictionOf(7, 2, [0.05, 0.3, 0.1, 0.4, 0.02, 0.08, 0.05]);
    expect(p).toMatchObject({ imageId: 7, top1: 3, top1Prob: 0.4, correctTop1: false, correctTop5: true });
    expect(p.top5.map((c) => c.label)).toEqual([3, 1, 2, 5, 0]);
    expect(predictionOf(8, 4, [0.05, 0.3, 0.1, 0.4, 0.02, 0.08, 0.05]).correctTop5).toBe(false);
  });

  it('lays kernels out in a near-square grid of enlarged cells', () => {
    const paper = filterGridLayout([11, 11, 3, 96]);
    expect(paper).toMatchObject({ columns: 10, rows: 10, scale: 4, tileWidth: 44, gap: 2, width: 10 * 44 + 11 * 2 });
    expect(filterGridLayout([5, 5, 3, 32])).toMatchObject({ columns: 6, rows: 6, tileWidth: 40 });
  });
});

describe('searching wide features through their projection', () => {
  it('re-ranks projected candidates exactly: planted near-duplicates come back first, with their true distances', () => {
    const t = tempDir();
    try {
      const dim = 1024;
      const rng = Rng.fromSeed(9);
      const rows = 300;
      const values = Float32Array.from({ length: rows * dim }, () => Math.max(0, rng.normal()));
      // Row 200 + i is row i plus a little noise: the nearest neighbour of each row i < 20.
      for (let i = 0; i < 20; i++) {
        for (let d = 0; d < dim; d++) {
          values[(200 + i) * dim + d] = values[i * dim + d]! + 0.01 * rng.normal();
        }
      }
      const set = { ids: Int32Array.from({ length: rows }, (_, i) => i + 1), values, dim };
      const projected = new Float32Array(rows * PROJECTED_DIM);
      const r = projectionMatrix(dim);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < PROJECTED_DIM; j++) {
          let s = 0;
          for (let d = 0; d < dim; d++) {
            s += values[i * dim + d]! * r[d * PROJECTED_DIM + j]!;
          }
          projected[i * PROJECTED_DIM + j] = s;
        }
      }
      writeFeatures(t.dir, 'train', set, projected);
      const cache = new FeatureCache();
      expect(cache.get(t.dir, 'train')).toMatchObject({ projected: true, fullDim: dim });
      for (let i = 0; i < 20; i++) {
        const near = nearestTrainImages(cache, t.dir, 'train', i + 1, 3)!;
        expect(near.ids.slice(0, 2)).toEqual([i + 1, 201 + i]);
        expect(near.distances[0]).toBe(0);
        const exact = Math.sqrt(Array.from({ length: dim }, (_, d) => (values[i * dim + d]! - values[(200 + i) * dim + d]!) ** 2).reduce((a, b) => a + b, 0));
        expect(near.distances[1]).toBeCloseTo(exact, 4);
      }
    } finally {
      t.cleanup();
    }
  });
});

describe('projectRows', () => {
  it('multiplies rows by the projection matrix in chunks, as a plain loop would', () => {
    const dim = 300;
    const rng = Rng.fromSeed(4);
    const values = Float32Array.from({ length: 5 * dim }, () => rng.next());
    const r = projectionMatrix(dim);
    const out = projectRows(values, dim, r, PROJECTED_DIM);
    for (const [i, j] of [[0, 0], [2, 17], [4, 255]] as const) {
      let s = 0;
      for (let d = 0; d < dim; d++) {
        s += values[i * dim + d]! * r[d * PROJECTED_DIM + j]!;
      }
      expect(out[i * PROJECTED_DIM + j]).toBeCloseTo(s, 4);
    }
  });
});
