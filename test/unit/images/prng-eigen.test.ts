import { describe, expect, it } from 'vitest';
import { symmetricEigen3, type Matrix3 } from '../../../src/images/eigen.js';
import { Rng } from '../../../src/images/prng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Rng.fromSeed(7, 'x');
    const b = Rng.fromSeed(7, 'x');
    const c = Rng.fromSeed(8, 'x');
    const seqA = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(seqA);
  });

  it('resumes exactly from a JSON round-tripped state', () => {
    const rng = Rng.fromSeed(3);
    rng.normal();
    const saved = JSON.parse(JSON.stringify(rng.state())) as ReturnType<Rng['state']>;
    const expected = [rng.next(), rng.normal(), rng.int(100)];
    const resumed = Rng.fromState(saved);
    expect([resumed.next(), resumed.normal(), resumed.int(100)]).toEqual(expected);
    expect(() => Rng.fromState([1, 2, 3] as unknown as [number, number, number, number])).toThrow();
  });

  it('draws uniform floats in [0,1) and standard normals', () => {
    const rng = Rng.fromSeed(11);
    const n = 40_000;
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(sumSq / n).toBeCloseTo(1, 1);
  });

  it('shuffles into a permutation', () => {
    const items = Int32Array.from({ length: 50 }, (_, i) => i);
    Rng.fromSeed(1).shuffle(items);
    expect([...items].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect([...items]).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

function multiply(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

function expectEigenPairs(m: Matrix3): void {
  const { values, vectors } = symmetricEigen3(m);
  for (let i = 0; i < 3; i++) {
    const v = vectors[i]!;
    const mv = m.map((row) => row.reduce((s, x, k) => s + x * v[k]!, 0));
    mv.forEach((x, k) => expect(x).toBeCloseTo(values[i]! * v[k]!, 9));
    for (let j = 0; j < 3; j++) {
      const dot = v.reduce((s, x, k) => s + x * vectors[j]![k]!, 0);
      expect(dot).toBeCloseTo(i === j ? 1 : 0, 9);
    }
  }
  expect(values[0]).toBeGreaterThanOrEqual(values[1]);
  expect(values[1]).toBeGreaterThanOrEqual(values[2]);
}

describe('symmetricEigen3', () => {
  it('sorts the eigenvalues of a diagonal matrix', () => {
    const { values, vectors } = symmetricEigen3([
      [2, 0, 0],
      [0, 5, 0],
      [0, 0, 1],
    ]);
    expect(values).toEqual([5, 2, 1]);
    expect(vectors).toEqual([
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });

  it('solves a matrix with a repeated eigenvalue', () => {
    const m: Matrix3 = [
      [2, 1, 0],
      [1, 2, 0],
      [0, 0, 3],
    ];
    const { values, vectors } = symmetricEigen3(m);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(3, 12);
    expect(values[2]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[2]![0]!)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[2]![0]! * vectors[2]![1]!).toBeCloseTo(-0.5, 12);
    expectEigenPairs(m);
  });

  it('recovers a known rotation R·diag(9,4,1)·Rᵀ', () => {
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const rz = [
      [c, -s, 0],
      [s, c, 0],
      [0, 0, 1],
    ];
    const rx = [
      [1, 0, 0],
      [0, Math.cos(0.3), -Math.sin(0.3)],
      [0, Math.sin(0.3), Math.cos(0.3)],
    ];
    const r = multiply(rz, rx);
    const d = [
      [9, 0, 0],
      [0, 4, 0],
      [0, 0, 1],
    ];
    const rt = r[0]!.map((_, j) => r.map((row) => row[j]!));
    const m = multiply(multiply(r, d), rt) as Matrix3;
    const { values, vectors } = symmetricEigen3(m);
    [9, 4, 1].forEach((want, i) => expect(values[i]).toBeCloseTo(want, 10));
    for (let i = 0; i < 3; i++) {
      const column = r.map((row) => row[i]!);
      const dot = column.reduce((sum, x, k) => sum + x * vectors[i]![k]!, 0);
      expect(Math.abs(dot)).toBeCloseTo(1, 10);
    }
    expectEigenPairs(m);
  });

  it('handles a realistic RGB covariance and rejects asymmetric input', () => {
    expectEigenPairs([
      [4200, 3900, 3500],
      [3900, 4000, 3700],
      [3500, 3700, 4300],
    ]);
    expect(() =>
      symmetricEigen3([
        [1, 2, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]),
    ).toThrow(/symmetric/);
  });
});
