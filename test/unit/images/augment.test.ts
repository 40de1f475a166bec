import { describe, expect, it } from 'vitest';
import {
  centerCrop,
  cropBatch,
  flipHorizontal,
  lightingShifts,
  randomCrop,
  randomFlip,
  TEN_CROP_ORDER,
  tenCrop,
  toFloat32,
  writeViewFloat,
  type ImageBatch,
} from '../../../src/images/augment.js';
import { symmetricEigen3, type Matrix3 } from '../../../src/images/eigen.js';
import { Rng } from '../../../src/images/prng.js';

/** count images of side×side where pixel (y, x) of image i is [(i*100 + y*10 + x) mod 256, y, x]. */
function coded(count: number, side: number): ImageBatch {
  const data = new Uint8Array(count * side * side * 3);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        data.set([i * 100 + y * 10 + x, y, x], ((i * side + y) * side + x) * 3);
      }
    }
  }
  return { data, count, height: side, width: side };
}

/** The red channel of image i as rows. */
function redRows(batch: ImageBatch, i: number): number[][] {
  const rows: number[][] = [];
  for (let y = 0; y < batch.height; y++) {
    const row: number[] = [];
    for (let x = 0; x < batch.width; x++) {
      row.push(batch.data[((i * batch.height + y) * batch.width + x) * 3]!);
    }
    rows.push(row);
  }
  return rows;
}

describe('crops and flips', () => {
  it('crops at the given offsets and mirrors on request', () => {
    const batch = coded(2, 3);
    const out = cropBatch(batch, 2, [
      { y: 1, x: 0, flip: false },
      { y: 0, x: 1, flip: true },
    ]);
    expect(out).toMatchObject({ count: 2, height: 2, width: 2 });
    expect(redRows(out, 0)).toEqual([
      [10, 11],
      [20, 21],
    ]);
    expect(redRows(out, 1)).toEqual([
      [102, 101],
      [112, 111],
    ]);
    // The other channels move with red: pixel (0,0) of the flipped view came from (y=0, x=2).
    expect(Array.from(out.data.subarray(12, 15))).toEqual([102, 0, 2]);
  });

  it('centre-crops and flips whole images', () => {
    const batch = coded(1, 4);
    expect(redRows(centerCrop(batch, 2), 0)).toEqual([
      [11, 12],
      [21, 22],
    ]);
    expect(redRows(flipHorizontal(coded(1, 3)), 0)).toEqual([
      [2, 1, 0],
      [12, 11, 10],
      [22, 21, 20],
    ]);
    const some = flipHorizontal(coded(2, 2), [false, true]);
    expect(redRows(some, 0)).toEqual([
      [0, 1],
      [10, 11],
    ]);
    expect(redRows(some, 1)).toEqual([
      [101, 100],
      [111, 110],
    ]);
  });

  it('random crops stay inside, reach every offset, and repeat for the same seed', () => {
    const batch = coded(200, 4);
    const a = randomCrop(batch, 3, Rng.fromSeed(5));
    expect(randomCrop(batch, 3, Rng.fromSeed(5)).data).toEqual(a.data);
    const corners = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const topLeft = (redRows(a, i)[0]![0]! - i * 100) & 255;
      corners.add(topLeft);
    }
    expect([...corners].sort((p, q) => p - q)).toEqual([0, 1, 10, 11]);
    const flipped = randomFlip(coded(200, 2), Rng.fromSeed(9));
    const mirrored = Array.from({ length: 200 }, (_, i) => ((redRows(flipped, i)[0]![0]! - i * 100) & 255) === 1).filter(Boolean).length;
    expect(mirrored).toBeGreaterThan(60);
    expect(mirrored).toBeLessThan(140);
  });

  it('ten-crop gives the 5 crops then their mirrors, image-major, all distinct', () => {
    const out = tenCrop(coded(2, 4), 3);
    expect(out.count).toBe(20);
    expect(TEN_CROP_ORDER).toHaveLength(10);
    const topLeftRed = Array.from({ length: 10 }, (_, v) => redRows(out, v)[0]![0]);
    // corners (0,0) (0,1) (1,0) (1,1), centre (0,0) — floor((4-3)/2) = 0 — then mirrored views start at column x+2.
    expect(topLeftRed).toEqual([0, 1, 10, 11, 0, 2, 3, 12, 13, 2]);
    expect(redRows(out, 4)).toEqual(redRows(out, 0));
    const views = Array.from({ length: 10 }, (_, v) => JSON.stringify(redRows(tenCrop(coded(1, 5), 3), v)));
    expect(new Set(views).size).toBe(10);
    expect(redRows(out, 10)[0]![0]).toBe(100);
    expect(redRows(out, 15)).toEqual(redRows(out, 5).map((row) => row.map((v) => v + 100)));
  });

  it('rejects crops that do not fit', () => {
    expect(() => centerCrop(coded(1, 3), 4)).toThrow(/does not fit/);
    expect(() => cropBatch(coded(1, 3), 2, [{ y: 2, x: 0, flip: false }])).toThrow(/leaves/);
  });
});

describe('float conversion and lighting', () => {
  it('subtracts the mean, adds the shift and divides by std', () => {
    const batch = coded(2, 2);
    const shifts = Float32Array.from([1, 2, 3, 0, 0, 0]);
    const x = toFloat32(batch, { mean: [10, 20, 30], std: [2, 4, 5] }, shifts);
    expect(Array.from(x.subarray(0, 3))).toEqual([(0 + 1 - 10) / 2, (0 + 2 - 20) / 4, (0 + 3 - 30) / 5].map(Math.fround));
    expect(x[12]).toBe((100 - 10) / 2);
    expect(toFloat32(batch, { mean: [0, 0, 0] })[3]).toBe(1);
  });

  it('the fused view writer equals crop → toFloat32', () => {
    const batch = coded(1, 5);
    const view = { y: 1, x: 2, flip: true };
    const norm = { mean: [3, 4, 5], std: [2, 2, 2] };
    const fused = new Float32Array(27);
    writeViewFloat(batch.data, 0, 5, view, 3, [7, 8, 9], norm, fused, 0);
    const twoStep = toFloat32(cropBatch(batch, 3, [view]), norm, Float32Array.from([7, 8, 9]));
    expect(Array.from(fused)).toEqual(Array.from(twoStep));
  });

  it('PCA lighting shifts have zero mean and covariance σ²·C', () => {
    const covariance: Matrix3 = [
      [4200, 3900, 3500],
      [3900, 4000, 3700],
      [3500, 3700, 4300],
    ];
    const { values, vectors } = symmetricEigen3(covariance);
    const sigma = 0.1;
    const n = 40_000;
    const shifts = lightingShifts(n, { eigvals: values, eigvecs: vectors, sigma }, Rng.fromSeed(2));
    const mean = [0, 1, 2].map((c) => shifts.filter((_, k) => k % 3 === c).reduce((s, v) => s + v, 0) / n);
    // σ·√(C_cc) is about 6.5, so the sample mean's standard error is about 0.03.
    mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(0.15));
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let s = 0;
        for (let i = 0; i < n; i++) {
          s += shifts[i * 3 + a]! * shifts[i * 3 + b]!;
        }
        const want = sigma * sigma * covariance[a]![b]!;
        expect(Math.abs(s / n - want) / want).toBeLessThan(0.05);
      }
    }
    // Along the smallest principal axis the noise is tiny; along the largest it dominates.
    const along = (v: readonly number[]): number => {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const d = shifts[i * 3]! * v[0]! + shifts[i * 3 + 1]! * v[1]! + shifts[i * 3 + 2]! * v[2]!;
        s += d * d;
      }
      return s / n;
    };
    expect(along(vectors[0]) / (sigma * sigma * values[0])).toBeCloseTo(1, 1);
    expect(along(vectors[2]) / (sigma * sigma * values[2])).toBeCloseTo(1, 1);
  });
});
