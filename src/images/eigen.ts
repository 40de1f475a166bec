/** A 3×3 matrix as rows. */
export type Matrix3 = [[number, number, number], [number, number, number], [number, number, number]];
/** Three components (e.g. RGB). */
export type Vector3 = [number, number, number];

/** Eigen-decomposition of a symmetric 3×3 matrix. */
export interface Eigen3 {
  /** Eigenvalues, largest first. */
  values: Vector3;
  /** Unit eigenvectors as rows: `vectors[i]` belongs to `values[i]`; each flipped so its largest-magnitude component is positive. */
  vectors: Matrix3;
}

/** Eigenvalues and eigenvectors of a symmetric 3×3 matrix by cyclic Jacobi rotations. */
export function symmetricEigen3(m: Matrix3): Eigen3 {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const a = m[i]![j]!;
      const b = m[j]![i]!;
      if (!Number.isFinite(a) || Math.abs(a - b) > 1e-9 * (Math.abs(a) + Math.abs(b) + 1)) {
        throw new Error('symmetricEigen3 needs a finite symmetric matrix');
      }
    }
  }
  const a = m.map((row) => [...row]) as number[][];
  // v accumulates the rotations; its columns end up as the eigenvectors.
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const at = (r: number, c: number): number => a[r]![c]!;
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = at(0, 1) ** 2 + at(0, 2) ** 2 + at(1, 2) ** 2;
    const scale = at(0, 0) ** 2 + at(1, 1) ** 2 + at(2, 2) ** 2 + off;
    if (off <= 1e-30 * scale || off === 0) {
      break;
    }
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      const apq = at(p, q);
      if (apq === 0) {
        continue;
      }
      // Rotation angle that zeroes a[p][q] (Numerical Recipes' stable form).
      const theta = (at(q, q) - at(p, p)) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const s = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = at(k, p);
        const akq = at(k, q);
        a[k]![p] = c * akp - s * akq;
        a[k]![q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = at(p, k);
        const aqk = at(q, k);
        a[p]![k] = c * apk - s * aqk;
        a[q]![k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k]![p]!;
        const vkq = v[k]![q]!;
        v[k]![p] = c * vkp - s * vkq;
        v[k]![q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => at(j, j) - at(i, i));
  const values = order.map((i) => at(i, i)) as Vector3;
  const vectors = order.map((i) => {
    const vec = [v[0]![i]!, v[1]![i]!, v[2]![i]!];
    const biggest = vec.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    return (biggest < 0 ? vec.map((x) => -x) : vec) as Vector3;
  }) as Matrix3;
  return { values, vectors };
}
