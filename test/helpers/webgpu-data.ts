// Tiny generated image sets as raw uint8 (what the compute page is fed) and as normalised floats (for Node).
import type { FeedBatch, FeedSource } from '../../src/train/compute/worker/feeder.js';
import { normalise } from '../../src/train/compute/page/port-source.js';
import { MemoryBatchSource } from './memory-source.js';

/** The normalisation the tests use on both sides. */
export const TEST_NORM = { mean: [128, 128, 128] as [number, number, number], std: [64, 64, 64] as [number, number, number] };

/** Class c is a bright disc at one of `classes` positions on a noisy dark background, as 0–255 NHWC. */
export function uint8Blobs(count: number, classes: number, size: number, seed = 1): { x: Uint8Array; labels: Int32Array } {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const x = new Uint8Array(count * size * size * 3);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const c = n % classes;
    labels[n] = c;
    const angle = (2 * Math.PI * c) / classes;
    const cx = size / 2 + (size / 4) * Math.cos(angle) + (rand() - 0.5) * 2;
    const cy = size / 2 + (size / 4) * Math.sin(angle) + (rand() - 0.5) * 2;
    const r = size / 6;
    for (let y = 0; y < size; y++) {
      for (let xx = 0; xx < size; xx++) {
        const inside = (xx - cx) ** 2 + (y - cy) ** 2 < r * r;
        for (let ch = 0; ch < 3; ch++) {
          x[((n * size + y) * size + xx) * 3 + ch] = Math.round((inside ? 220 : 60) + (rand() - 0.5) * 60);
        }
      }
    }
  }
  return { x, labels };
}

/** A FeedSource of uint8 batches over images in memory, reshuffled per epoch like MemoryBatchSource. */
export class Uint8MemorySource implements FeedSource {
  private readonly index: MemoryBatchSource;

  constructor(
    private readonly data: { x: Uint8Array; labels: Int32Array },
    private readonly size: number,
    batchSize: number,
    seed: number | null,
  ) {
    // Reuse MemoryBatchSource's order and batching on a one-float-per-image stand-in.
    this.index = new MemoryBatchSource(Float32Array.from(data.labels, (_, i) => i), data.labels, 0, batchSize, seed);
  }

  get batchesPerEpoch(): number {
    return this.index.batchesPerEpoch;
  }

  seek(epoch: number, startBatch = 0): void {
    this.index.seek(epoch, startBatch);
  }

  async next(): Promise<FeedBatch | null> {
    const b = await this.index.next();
    if (!b) {
      return null;
    }
    const per = this.size * this.size * 3;
    const x = new Uint8Array(b.ids.length * per);
    b.ids.forEach((src, i) => x.set(this.data.x.subarray(src * per, (src + 1) * per), i * per));
    return { ...b, x, shape: [b.ids.length, this.size, this.size, 3] };
  }
}

/** The same images as normalised floats in a MemoryBatchSource (Node training). */
export function floatSource(data: { x: Uint8Array; labels: Int32Array }, size: number, batchSize: number, seed: number | null): MemoryBatchSource {
  return new MemoryBatchSource(normalise(data.x, TEST_NORM), data.labels, size, batchSize, seed);
}
