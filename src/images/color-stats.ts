import { symmetricEigen3, type Matrix3, type Vector3 } from './eigen.js';
import type { Pack } from './open-pack.js';
import { Rng } from './prng.js';

/** Per-dataset RGB statistics on the 0–255 scale; plain JSON, stored by the caller. */
export interface ColorStats {
  /** Per-channel mean. */
  mean: Vector3;
  /** Per-channel standard deviation. */
  std: Vector3;
  /** 3×3 RGB covariance (population). */
  covariance: Matrix3;
  /** Eigenvalues of the covariance, largest first (variances along the principal axes). */
  eigvals: Vector3;
  /** Unit eigenvectors as rows, `eigvecs[i]` for `eigvals[i]`. */
  eigvecs: Matrix3;
  images: number;
  pixels: number;
}

/** Options of computeColorStats. */
export interface ColorStatsOptions {
  /** Most images to sample (default 2000). */
  maxImages?: number;
  /** Most pixels to sample per image (default 1024; every pixel when the record has fewer). */
  pixelsPerImage?: number;
  seed?: number;
}

/** Mean, covariance and its eigen-decomposition over (a sample of) the pixels of the given ids (default: all records). */
export function computeColorStats(pack: Pack, ids?: ArrayLike<number>, options: ColorStatsOptions = {}): ColorStats {
  const maxImages = options.maxImages ?? 2000;
  const rng = Rng.fromSeed(options.seed ?? 0, 'color-stats');
  let records: number[];
  if (ids) {
    records = Array.from(ids, (id) => {
      const index = pack.indexOf(id);
      if (index < 0) {
        throw new Error(`image ${id} is not in the pack`);
      }
      return index;
    });
  } else {
    records = Array.from({ length: pack.count }, (_, i) => i);
  }
  if (records.length === 0) {
    throw new Error('computeColorStats needs at least one image');
  }
  if (records.length > maxImages) {
    records = rng.shuffle(records).slice(0, maxImages);
  }
  const pixelsInRecord = pack.packSize * pack.packSize;
  const perImage = Math.min(options.pixelsPerImage ?? 1024, pixelsInRecord);
  const scratch = new Uint8Array(pack.recordBytes);
  // Sums in float64; for 2000 × 1024 samples of ≤255 they stay exact.
  let sr = 0, sg = 0, sb = 0;
  let srr = 0, srg = 0, srb = 0, sgg = 0, sgb = 0, sbb = 0;
  let n = 0;
  for (const index of records) {
    const px = pack.read(index, scratch);
    for (let s = 0; s < perImage; s++) {
      const p = (perImage === pixelsInRecord ? s : rng.int(pixelsInRecord)) * 3;
      const r = px[p]!;
      const g = px[p + 1]!;
      const b = px[p + 2]!;
      sr += r;
      sg += g;
      sb += b;
      srr += r * r;
      srg += r * g;
      srb += r * b;
      sgg += g * g;
      sgb += g * b;
      sbb += b * b;
      n++;
    }
  }
  const mean: Vector3 = [sr / n, sg / n, sb / n];
  const [mr, mg, mb] = mean;
  const crr = srr / n - mr * mr;
  const crg = srg / n - mr * mg;
  const crb = srb / n - mr * mb;
  const cgg = sgg / n - mg * mg;
  const cgb = sgb / n - mg * mb;
  const cbb = sbb / n - mb * mb;
  const covariance: Matrix3 = [
    [crr, crg, crb],
    [crg, cgg, cgb],
    [crb, cgb, cbb],
  ];
  const { values, vectors } = symmetricEigen3(covariance);
  return {
    mean,
    std: [Math.sqrt(Math.max(0, crr)), Math.sqrt(Math.max(0, cgg)), Math.sqrt(Math.max(0, cbb))],
    covariance,
    // Rounding can leave a flat dataset's smallest eigenvalues a hair below zero.
    eigvals: values.map((v) => Math.max(0, v)) as Vector3,
    eigvecs: vectors,
    images: records.length,
    pixels: n,
  };
}
