import type { Matrix3, Vector3 } from './eigen.js';
import type { Rng } from './prng.js';

/** A batch of uint8 RGB images in NHWC order. */
export interface ImageBatch {
  data: Uint8Array;
  count: number;
  height: number;
  width: number;
}

/** Where to cut one square view from an image, and whether to mirror it. */
export interface View {
  y: number;
  x: number;
  flip: boolean;
}

/** The paper's PCA lighting noise: eigen-decomposition of the training RGB covariance (0–255 scale) and σ of α. */
export interface PcaLighting {
  /** Covariance eigenvalues, as in ColorStats.eigvals. */
  eigvals: ArrayLike<number>;
  /** Eigenvectors as rows, as in ColorStats.eigvecs. */
  eigvecs: ArrayLike<ArrayLike<number>>;
  /** σ of α_i; the paper uses 0.1. */
  sigma: number;
}

/** Mean subtraction and scaling: out = (pixel + lighting − mean) / std. */
export interface Normalization {
  mean: ArrayLike<number>;
  /** Defaults to 1 per channel (the paper subtracts the mean only). */
  std?: ArrayLike<number>;
}

/** Order of the ten views per image in tenCrop: the five crops, then the same five mirrored. */
export const TEN_CROP_ORDER = [
  'top-left',
  'top-right',
  'bottom-left',
  'bottom-right',
  'center',
  'top-left-flipped',
  'top-right-flipped',
  'bottom-left-flipped',
  'bottom-right-flipped',
  'center-flipped',
] as const;

/** Copies one size×size view (optionally mirrored) of an HWC RGB image into `dst` at `dstOffset`. */
export function copyView(
  src: Uint8Array,
  srcOffset: number,
  srcWidth: number,
  view: View,
  size: number,
  dst: Uint8Array,
  dstOffset: number,
): void {
  const rowBytes = size * 3;
  for (let r = 0; r < size; r++) {
    const from = srcOffset + ((view.y + r) * srcWidth + view.x) * 3;
    const to = dstOffset + r * rowBytes;
    if (!view.flip) {
      dst.set(src.subarray(from, from + rowBytes), to);
      continue;
    }
    for (let c = 0; c < size; c++) {
      const s = from + (size - 1 - c) * 3;
      const d = to + c * 3;
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s + 2]!;
    }
  }
}

/** Writes one view of an HWC RGB image as float32, adding a lighting shift and normalising, in a single pass. */
export function writeViewFloat(
  src: Uint8Array,
  srcOffset: number,
  srcWidth: number,
  view: View,
  size: number,
  shift: ArrayLike<number>,
  norm: Normalization,
  dst: Float32Array,
  dstOffset: number,
): void {
  const std = norm.std ?? [1, 1, 1];
  const add0 = (shift[0]! - norm.mean[0]!) / std[0]!;
  const add1 = (shift[1]! - norm.mean[1]!) / std[1]!;
  const add2 = (shift[2]! - norm.mean[2]!) / std[2]!;
  const mul0 = 1 / std[0]!;
  const mul1 = 1 / std[1]!;
  const mul2 = 1 / std[2]!;
  const step = view.flip ? -3 : 3;
  for (let r = 0; r < size; r++) {
    let s = srcOffset + ((view.y + r) * srcWidth + view.x + (view.flip ? size - 1 : 0)) * 3;
    let d = dstOffset + r * size * 3;
    for (const end = d + size * 3; d < end; d += 3, s += step) {
      dst[d] = src[s]! * mul0 + add0;
      dst[d + 1] = src[s + 1]! * mul1 + add1;
      dst[d + 2] = src[s + 2]! * mul2 + add2;
    }
  }
}

/** Uniform random crop position (offsets 0..H−size inclusive, as the paper's 224 of 256) and, if asked, a coin-flip mirror. */
export function randomView(height: number, width: number, size: number, rng: Rng, flip: boolean): View {
  checkFits(height, width, size);
  return { y: rng.int(height - size + 1), x: rng.int(width - size + 1), flip: flip && rng.chance(0.5) };
}

/** The centre view (offset rounded down). */
export function centerView(height: number, width: number, size: number): View {
  checkFits(height, width, size);
  return { y: Math.floor((height - size) / 2), x: Math.floor((width - size) / 2), flip: false };
}

/** The ten views of the paper's test-time augmentation, in TEN_CROP_ORDER. */
export function tenCropViews(height: number, width: number, size: number): View[] {
  const c = centerView(height, width, size);
  const corners = [
    { y: 0, x: 0 },
    { y: 0, x: width - size },
    { y: height - size, x: 0 },
    { y: height - size, x: width - size },
    { y: c.y, x: c.x },
  ];
  return [...corners.map((p) => ({ ...p, flip: false })), ...corners.map((p) => ({ ...p, flip: true }))];
}

/** Cuts one view per image (`views[i]` for image i, or `views[i*k .. i*k+k-1]` for k views per image). */
export function cropBatch(batch: ImageBatch, size: number, views: View[]): ImageBatch {
  if (views.length === 0 || views.length % batch.count !== 0) {
    throw new Error(`need a multiple of ${batch.count} views, got ${views.length}`);
  }
  const perImage = views.length / batch.count;
  const srcBytes = batch.height * batch.width * 3;
  const dstBytes = size * size * 3;
  const data = new Uint8Array(views.length * dstBytes);
  views.forEach((view, v) => {
    checkView(batch, size, view);
    copyView(batch.data, Math.floor(v / perImage) * srcBytes, batch.width, view, size, data, v * dstBytes);
  });
  return { data, count: views.length, height: size, width: size };
}

/** Random crops (no flips) of every image. */
export function randomCrop(batch: ImageBatch, size: number, rng: Rng): ImageBatch {
  const views = Array.from({ length: batch.count }, () => randomView(batch.height, batch.width, size, rng, false));
  return cropBatch(batch, size, views);
}

/** Centre crops of every image. */
export function centerCrop(batch: ImageBatch, size: number): ImageBatch {
  return cropBatch(batch, size, Array(batch.count).fill(centerView(batch.height, batch.width, size)));
}

/** Ten views per image (image-major: the 10 views of image 0, then image 1, …) in TEN_CROP_ORDER. */
export function tenCrop(batch: ImageBatch, size: number): ImageBatch {
  const views = tenCropViews(batch.height, batch.width, size);
  return cropBatch(batch, size, Array.from({ length: batch.count }, () => views).flat());
}

/** Mirrors images left–right: all of them, or those where `which[i]` is true. */
export function flipHorizontal(batch: ImageBatch, which?: ArrayLike<boolean>): ImageBatch {
  const { height, width } = batch;
  const data = new Uint8Array(batch.data.length);
  for (let i = 0; i < batch.count; i++) {
    const base = i * height * width * 3;
    const flip = which ? which[i] === true : true;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const s = base + (r * width + (flip ? width - 1 - c : c)) * 3;
        const d = base + (r * width + c) * 3;
        data[d] = batch.data[s]!;
        data[d + 1] = batch.data[s + 1]!;
        data[d + 2] = batch.data[s + 2]!;
      }
    }
  }
  return { data, count: batch.count, height, width };
}

/** Mirrors each image with probability ½. */
export function randomFlip(batch: ImageBatch, rng: Rng): ImageBatch {
  return flipHorizontal(batch, Array.from({ length: batch.count }, () => rng.chance(0.5)));
}

/**
 * One RGB lighting shift: Σ_i α_i·√λ_i·p_i with α_i ~ N(0, σ). The paper writes α_i·λ_i, but with
 * eigenvalues of a covariance that depends on the pixel scale (×65025 from 0–1 to 0–255);
 * √λ_i (the std along p_i, as cuda-convnet and fb.resnet do) makes the shift's covariance σ²·C.
 */
export function lightingShift(pca: PcaLighting, rng: Rng, out: Float64Array | number[] = [0, 0, 0]): Vector3 {
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  for (let i = 0; i < 3; i++) {
    const a = rng.normal(0, pca.sigma) * Math.sqrt(Math.max(0, pca.eigvals[i]!));
    const p = pca.eigvecs[i]!;
    out[0] += a * p[0]!;
    out[1] += a * p[1]!;
    out[2] += a * p[2]!;
  }
  return [out[0], out[1], out[2]];
}

/** Lighting shifts for `count` images, count × 3. */
export function lightingShifts(count: number, pca: PcaLighting, rng: Rng): Float32Array {
  const out = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    out.set(lightingShift(pca, rng), i * 3);
  }
  return out;
}

/** Converts a uint8 batch to float32 NHWC: (pixel + shift[image] − mean) / std. */
export function toFloat32(batch: ImageBatch, norm: Normalization, shifts?: Float32Array): Float32Array {
  const pixels = batch.height * batch.width;
  const std = norm.std ?? [1, 1, 1];
  const out = new Float32Array(batch.count * pixels * 3);
  for (let i = 0; i < batch.count; i++) {
    for (let c = 0; c < 3; c++) {
      const add = ((shifts ? shifts[i * 3 + c]! : 0) - norm.mean[c]!) / std[c]!;
      const mul = 1 / std[c]!;
      for (let p = i * pixels * 3 + c, end = (i + 1) * pixels * 3; p < end; p += 3) {
        out[p] = batch.data[p]! * mul + add;
      }
    }
  }
  return out;
}

/** ColorStats-shaped eigen data as a PcaLighting with the paper's σ. */
export function paperLighting(stats: { eigvals: Vector3; eigvecs: Matrix3 }, sigma = 0.1): PcaLighting {
  return { eigvals: stats.eigvals, eigvecs: stats.eigvecs, sigma };
}

function checkFits(height: number, width: number, size: number): void {
  if (!Number.isInteger(size) || size <= 0 || size > height || size > width) {
    throw new Error(`crop ${size} does not fit in ${height}×${width}`);
  }
}

function checkView(batch: ImageBatch, size: number, view: View): void {
  if (view.y < 0 || view.x < 0 || view.y + size > batch.height || view.x + size > batch.width) {
    throw new Error(`view ${JSON.stringify(view)} of ${size} leaves the ${batch.height}×${batch.width} image`);
  }
}
