import { performance } from 'node:perf_hooks';
import { createBatchLoader, type BatchLoaderOptions } from '../src/images/batch-loader.js';
import { readPackHeader } from '../src/images/open-pack.js';

/** Options of measureLoader; everything but packFile has a paper-like default. */
export type MeasureLoaderOptions = Partial<Omit<BatchLoaderOptions, 'packFile'>> & {
  packFile: string;
  /** Batches to time after the first (which includes start-up); default 20. */
  batches?: number;
};

/** What measureLoader saw. */
export interface LoaderMeasurement {
  /** Images delivered per wall-clock second to a consumer that does nothing else. */
  imagesPerSec: number;
  /** Images per second of the worker's own busy time (its capacity). */
  workerImagesPerSec: number;
  images: number;
  seconds: number;
}

/** Times packed cache → augmented float32 batches through the worker loader, for the bench suite. */
export async function measureLoader(options: MeasureLoaderOptions): Promise<LoaderMeasurement> {
  const header = readPackHeader(options.packFile);
  const inputSize = options.inputSize ?? Math.round((header.packSize * 7) / 8);
  const loader = await createBatchLoader({
    ids: header.ids,
    batchSize: 128,
    train: true,
    augment: { crop: true, flip: true, pca: { eigvals: [1000, 100, 10], eigvecs: [[0.58, 0.58, 0.58], [0.7, 0, -0.7], [0.41, -0.82, 0.41]], sigma: 0.1 } },
    mean: [124, 116, 104],
    seed: 1,
    epoch: 0,
    prefetch: 2,
    // Full batches only, so images/s is not diluted by a short last batch.
    dropLast: true,
    ...options,
    inputSize,
  });
  try {
    const wanted = options.batches ?? 20;
    let epoch = loader.epoch;
    // The first batch pays for worker start-up; time only the steady state.
    await loader.next();
    const started = performance.now();
    let images = 0;
    for (let taken = 0; taken < wanted; ) {
      const batch = await loader.next();
      if (!batch) {
        loader.seek(++epoch);
        continue;
      }
      images += batch.ids.length;
      taken++;
    }
    const seconds = (performance.now() - started) / 1000;
    return { imagesPerSec: images / seconds, workerImagesPerSec: loader.stats().imagesPerSec, images, seconds };
  } finally {
    await loader.close();
  }
}
