import {
  centerView,
  copyView,
  lightingShift,
  randomView,
  tenCropViews,
  writeViewFloat,
  type Normalization,
  type PcaLighting,
  type View,
} from './augment.js';
import { Rng } from './prng.js';

/** Training-time augmentation switches. */
export interface AugmentOptions {
  /** Random inputSize crops of the packSize record (else centre crop). */
  crop: boolean;
  /** Mirror with probability ½. */
  flip: boolean;
  /** PCA lighting noise, or null for none. */
  pca: PcaLighting | null;
}

/** How records become network input. */
export interface AssemblyConfig {
  inputSize: number;
  train: boolean;
  augment: AugmentOptions;
  norm: Normalization;
  /** Eval only: one centre view per image, or the paper's ten views. */
  evalViews: 'center' | 'ten-crop';
  /** float32 = normalised network input (default); uint8 = raw views + lighting shifts (assembleRawBatch). */
  output?: 'float32' | 'uint8';
}

/** Record reader that assembleBatch needs (a Pack satisfies it). */
export interface RecordReader {
  readonly packSize: number;
  readonly recordBytes: number;
  read(index: number, target?: Uint8Array, offset?: number): Uint8Array;
}

/** Visiting order of `count` items in an epoch: shuffled from (seed, epoch) when training, identity otherwise. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  return shuffle ? Rng.fromSeed(seed, 'order', epoch).shuffle(order) : order;
}

/** Augmentation stream of one batch; per batch so that resuming at batch b reproduces it exactly. */
export function batchRng(seed: number, epoch: number, batch: number): Rng {
  return Rng.fromSeed(seed, 'augment', epoch, batch);
}

/** Views per image that a config produces. */
export function viewsPerImage(config: AssemblyConfig): number {
  return !config.train && config.evalViews === 'ten-crop' ? 10 : 1;
}

/**
 * Visits every view of a batch in order, drawing the random crop, mirror and lighting shift of each
 * training image from `rng` in one fixed order (so float and raw batches of a position are the same).
 * `emit` gets the record's pixels, the view, the lighting shift (null: none), the image and output index.
 */
function visitViews(
  pack: RecordReader,
  records: ArrayLike<number>,
  config: AssemblyConfig,
  rng: Rng,
  emit: (src: Uint8Array, view: View, light: ArrayLike<number> | null, image: number, out: number) => void,
): number {
  const { inputSize: size, augment } = config;
  const P = pack.packSize;
  const views = viewsPerImage(config);
  const scratch = new Uint8Array(pack.recordBytes);
  const shift = [0, 0, 0];
  const evalViews: View[] = views === 10 ? tenCropViews(P, P, size) : [centerView(P, P, size)];
  for (let i = 0; i < records.length; i++) {
    const src = pack.read(records[i]!, scratch);
    if (config.train) {
      const view = augment.crop ? randomView(P, P, size, rng, augment.flip) : { ...centerView(P, P, size), flip: augment.flip && rng.chance(0.5) };
      emit(src, view, augment.pca ? lightingShift(augment.pca, rng, shift) : null, i, i);
    } else {
      evalViews.forEach((view, v) => emit(src, view, null, i, i * views + v));
    }
  }
  return views;
}

/** Builds the float32 NHWC input of one batch from its record indices. */
export function assembleBatch(
  pack: RecordReader,
  records: ArrayLike<number>,
  config: AssemblyConfig,
  rng: Rng,
): { x: Float32Array; shape: [number, number, number, number]; views: number } {
  const size = config.inputSize;
  const viewValues = size * size * 3;
  const x = new Float32Array(records.length * viewsPerImage(config) * viewValues);
  const zero = [0, 0, 0];
  const views = visitViews(pack, records, config, rng, (src, view, light, _image, out) =>
    writeViewFloat(src, 0, pack.packSize, view, size, light ?? zero, config.norm, x, out * viewValues),
  );
  return { x, shape: [records.length * views, size, size, 3], views };
}

/**
 * The same batch as assembleBatch (same random crops, mirrors and lighting draws, in the same order),
 * as raw uint8 views plus one lighting shift per image, for a consumer that normalises on its side:
 * a quarter of the bytes to move to a compute window.
 */
export function assembleRawBatch(
  pack: RecordReader,
  records: ArrayLike<number>,
  config: AssemblyConfig,
  rng: Rng,
): { x: Uint8Array; shifts: Float32Array | null; shape: [number, number, number, number]; views: number } {
  const size = config.inputSize;
  const viewBytes = size * size * 3;
  const x = new Uint8Array(records.length * viewsPerImage(config) * viewBytes);
  const shifts = config.train && config.augment.pca !== null ? new Float32Array(records.length * 3) : null;
  const views = visitViews(pack, records, config, rng, (src, view, light, image, out) => {
    if (shifts && light) {
      shifts.set(light, image * 3);
    }
    copyView(src, 0, pack.packSize, view, size, x, out * viewBytes);
  });
  return { x, shifts, shape: [records.length * views, size, size, 3], views };
}
