import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { centerCrop, toFloat32 } from '../../../src/images/augment.js';
import { createBatchLoader, type BatchLoader, type BatchLoaderOptions } from '../../../src/images/batch-loader.js';
import type { Batch } from '../../../src/images/batch-source.js';
import { measureLoader } from '../../../bench/loader.js';
import { openPack } from '../../../src/images/open-pack.js';
import { packImages } from '../../../src/images/pack-images.js';
import { halves, tempDir } from './fixtures.js';

const COUNT = 23;
let cleanup: () => Promise<void>;
let packFile: string;
const ids = Array.from({ length: COUNT }, (_, i) => 10 + i);

beforeAll(async () => {
  const made = await tempDir();
  cleanup = made.cleanup;
  // Image id k: red channel k everywhere, green 0 on the left half and 200 on the right, so flips and crops show.
  const items = await Promise.all(
    ids.map(async (id) => ({ id, label: id % 3, path: await halves(join(made.dir, `${id}.png`), 12, 12, [id, 0, 50], [id, 200, 50]) })),
  );
  packFile = join(made.dir, 'loader.pack');
  await packImages({ items, packSize: 8, outFile: packFile });
});
afterAll(() => cleanup());

const base = (over: Partial<BatchLoaderOptions> = {}): BatchLoaderOptions => ({
  packFile,
  ids,
  batchSize: 5,
  inputSize: 6,
  train: true,
  augment: { crop: true, flip: true, pca: { eigvals: [400, 40, 4], eigvecs: [[0.6, 0.6, 0.53], [0.7, 0, -0.71], [0.38, -0.8, 0.47]], sigma: 0.1 } },
  mean: [0, 0, 0],
  seed: 42,
  epoch: 0,
  prefetch: 2,
  ...over,
});

async function drain(loader: BatchLoader): Promise<Batch[]> {
  const batches: Batch[] = [];
  for (let b = await loader.next(); b; b = await loader.next()) {
    batches.push(b);
  }
  return batches;
}

async function withLoader<T>(options: BatchLoaderOptions, use: (loader: BatchLoader) => Promise<T>): Promise<T> {
  const loader = await createBatchLoader(options);
  try {
    return await use(loader);
  } finally {
    await loader.close();
  }
}

const order = (batches: Batch[]): number[] => batches.flatMap((b) => Array.from(b.ids));

describe('createBatchLoader', () => {
  it('yields every id once per epoch, deterministically from (seed, epoch), with matching labels and pixels', async () => {
    const [epoch0, epoch0Again, epoch1, otherSeed] = await withLoader(base(), async (loader) => {
      expect(loader.batchesPerEpoch).toBe(5);
      const e0 = await drain(loader);
      expect(await loader.next()).toBeNull();
      loader.seek(0);
      const e0b = await drain(loader);
      loader.seek(1);
      const e1 = await drain(loader);
      return [e0, e0b, e1, await withLoader(base({ seed: 43 }), drain)];
    });
    expect(epoch0.map((b) => b.shape)).toEqual([...Array(4).fill([5, 6, 6, 3]), [3, 6, 6, 3]]);
    expect(order(epoch0).sort((a, b) => a - b)).toEqual(ids);
    expect(order(epoch1).sort((a, b) => a - b)).toEqual(ids);
    expect(order(epoch0Again)).toEqual(order(epoch0));
    expect(epoch0Again.map((b) => Array.from(b.x))).toEqual(epoch0.map((b) => Array.from(b.x)));
    expect(order(epoch1)).not.toEqual(order(epoch0));
    expect(order(otherSeed)).not.toEqual(order(epoch0));
    expect(order(epoch0)).not.toEqual(ids);
    for (const batch of epoch0) {
      expect(Array.from(batch.labels)).toEqual(Array.from(batch.ids, (id) => id % 3));
      batch.ids.forEach((id, i) => {
        // Red is the id everywhere; lighting noise moves it with σ ≈ 1.3 levels here, so 8 is over 6σ.
        expect(Math.abs(batch.x[i * 108]! - id)).toBeLessThan(8);
      });
    }
  });

  it('evaluates in order with centre crops and no augmentation', async () => {
    const batches = await withLoader(base({ train: false, batchSize: 10, mean: [1, 2, 3], std: [2, 2, 2] }), drain);
    expect(order(batches)).toEqual(ids);
    const pack = openPack(packFile);
    try {
      const records = { data: Buffer.concat(ids.slice(0, 10).map((id) => pack.read(pack.indexOf(id)))), count: 10, height: 8, width: 8 };
      const expected = toFloat32(centerCrop(records, 6), { mean: [1, 2, 3], std: [2, 2, 2] });
      expect(Array.from(batches[0]!.x)).toEqual(Array.from(expected));
    } finally {
      pack.close();
    }
  });

  it('serves ten-crop eval batches with one label per image', async () => {
    const [first] = await withLoader(base({ train: false, batchSize: 4, evalViews: 'ten-crop' }), async (l) => [await l.next()]);
    expect(first!.shape).toEqual([40, 6, 6, 3]);
    expect(first!.views).toBe(10);
    expect(Array.from(first!.ids)).toEqual(ids.slice(0, 4));
    // View 5 mirrors view 0: the left edge's green (dark) moves to the right edge.
    const greenAt = (view: number, x: number): number => first!.x[view * 108 + (0 * 6 + x) * 3 + 1]!;
    expect(greenAt(0, 0)).toBeLessThan(greenAt(0, 5));
    expect(greenAt(5, 0)).toBeGreaterThan(greenAt(5, 5));
  });

  it('resumes mid-epoch with exactly the batches it would have produced', async () => {
    const full = await withLoader(base(), drain);
    const resumed = await withLoader(base({ startBatch: 3 }), drain);
    expect(resumed.map((b) => b.index)).toEqual([3, 4]);
    expect(resumed.map((b) => Array.from(b.x))).toEqual(full.slice(3).map((b) => Array.from(b.x)));
    expect(order(resumed)).toEqual(order(full.slice(3)));
  });

  it('prefetches in the worker up to `prefetch` batches and refills after each take', async () => {
    await withLoader(base({ prefetch: 3 }), async (loader) => {
      await vi.waitFor(() => expect(loader.stats().buffered).toBe(3), { timeout: 20_000, interval: 20 });
      const first = await loader.next();
      expect(first?.index).toBe(0);
      expect(loader.stats().buffered).toBe(2);
      await vi.waitFor(() => expect(loader.stats().buffered).toBe(3), { timeout: 20_000, interval: 20 });
      // Credits cap the worker: with no more takes it cannot exceed prefetch.
      expect(loader.stats()).toMatchObject({ buffered: 3, batches: 1, images: 5 });
      expect(loader.stats().imagesPerSec).toBeGreaterThan(0);
      const rest = await drain(loader);
      expect(rest.map((b) => b.index)).toEqual([1, 2, 3, 4]);
    });
  });

  it('prefetches the next epoch during the epoch boundary and keeps it on seek(epoch + 1)', async () => {
    const fresh = await withLoader(base({ epoch: 1 }), drain);
    await withLoader(base({ prefetch: 3 }), async (loader) => {
      await drain(loader);
      await vi.waitFor(() => expect(loader.stats().buffered).toBe(3), { timeout: 20_000, interval: 20 });
      expect(await loader.next()).toBeNull();
      loader.seek(1);
      expect(loader.stats().buffered).toBe(3);
      const next = await drain(loader);
      expect(next.map((b) => [b.epoch, b.index])).toEqual([0, 1, 2, 3, 4].map((i) => [1, i]));
      expect(next.map((b) => Array.from(b.x))).toEqual(fresh.map((b) => Array.from(b.x)));
      // Seeking anywhere else drops the prefetched batches and starts over.
      loader.seek(0, 4);
      expect(loader.stats().buffered).toBe(0);
      expect((await drain(loader)).map((b) => [b.epoch, b.index])).toEqual([[0, 4]]);
    });
  });

  it('honours caller labels and dropLast', async () => {
    const labels = ids.map((id) => id * 2);
    const batches = await withLoader(base({ labels, dropLast: true, train: false }), drain);
    expect(batches).toHaveLength(4);
    expect(Array.from(batches[0]!.labels)).toEqual(ids.slice(0, 5).map((id) => id * 2));
  });

  it('rejects ids missing from the pack, crops larger than the pack, and bad options', async () => {
    await expect(createBatchLoader(base({ ids: [10, 999] }))).rejects.toThrow(/not in the pack/);
    await expect(createBatchLoader(base({ inputSize: 9 }))).rejects.toThrow(/larger than the pack/);
    await expect(createBatchLoader(base({ packFile: join(packFile, '..', 'nope.pack') }))).rejects.toThrow(/cannot open pack/);
    await expect(createBatchLoader(base({ ids: [10, 10] }))).rejects.toThrow(/unique/);
    await expect(createBatchLoader(base({ batchSize: 0 }))).rejects.toThrow(/batchSize/);
  });

  it('measureLoader reports a throughput', async () => {
    const m = await measureLoader({ packFile, batchSize: 8, inputSize: 6, batches: 6 });
    expect(m.images).toBe(48);
    expect(m.imagesPerSec).toBeGreaterThan(0);
    expect(m.workerImagesPerSec).toBeGreaterThan(0);
  });
});
