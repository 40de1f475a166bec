import { TEST_NORM, uint8Blobs } from './webgpu-data.js';

/**
 * A learnable synthetic image set as normalised NHWC floats: class c is a bright disc at one of
 * `classes` positions on a noisy background (the same images the compute-window tests feed as uint8).
 */
export function syntheticBlobs(count: number, classes: number, size: number, seed = 1): { x: Float32Array; labels: Int32Array } {
  const { x, labels } = uint8Blobs(count, classes, size, seed);
  return { x: Float32Array.from(x, (v, i) => (v - TEST_NORM.mean[i % 3]!) / TEST_NORM.std[i % 3]!), labels };
}
