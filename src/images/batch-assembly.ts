import {
  centerView,
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

/** Builds the float32 NHWC input of one batch from its record indices. */
export function assembleBatch(
  pack: RecordReader,
  records: ArrayLike<number>,
  config: AssemblyConfig,
  rng: Rng,
): { x: Float32Array; shape: [number, number, number, number]; views: number } {
  const { inputSize: size, augment } = config;
  const P = pack.packSize;
  const views = viewsPerImage(config);
  const viewValues = size * size * 3;
  const x = new Float32Array(records.length * views * viewValues);
  const scratch = new Uint8Array(pack.recordBytes);
  const zero = [0, 0, 0];
  const shift = [0, 0, 0];
  const evalViews: View[] = views === 10 ? tenCropViews(P, P, size) : [centerView(P, P, size)];
  for (let i = 0; i < records.length; i++) {
    const src = pack.read(records[i]!, scratch);
    if (config.train) {
      const view = augment.crop
        ? randomView(P, P, size, rng, augment.flip)
        : { ...centerView(P, P, size), flip: augment.flip && rng.chance(0.5) };
      const light = augment.pca ? lightingShift(augment.pca, rng, shift) : zero;
      writeViewFloat(src, 0, P, view, size, light, config.norm, x, i * viewValues);
    } else {
      evalViews.forEach((view, v) => {
        writeViewFloat(src, 0, P, view, size, zero, config.norm, x, (i * views + v) * viewValues);
      });
    }
  }
  return { x, shape: [records.length * views, size, size, 3], views };
}
