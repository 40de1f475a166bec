// uint8 batches for the compute window: the loader's raw views + lighting shifts, normalised on the
// page's side, must be the very floats the Node trainer gets for the same batch position.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchLoader, type BatchLoaderOptions } from '../../../src/images/batch-loader.js';
import type { Batch, RawBatch } from '../../../src/images/batch-source.js';
import { packImages } from '../../../src/images/pack-images.js';
import { createBatchFeeder } from '../../../src/train/compute/worker/feeder.js';
import type { ComputeBatch, ToCompute } from '../../../src/train/compute/protocol.js';
import { normalise, PortBatchSource } from '../../../src/train/compute/page/port-source.js';
import { halves, tempDir } from './fixtures.js';

const ids = Array.from({ length: 13 }, (_, i) => 100 + i);
let packFile: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const made = await tempDir();
  cleanup = made.cleanup;
  const items = await Promise.all(ids.map(async (id) => ({ id, label: id % 2, path: await halves(join(made.dir, `${id}.png`), 14, 14, [id, 10, 90], [255 - id, 220, 30]) })));
  packFile = join(made.dir, 'raw.pack');
  await packImages({ items, packSize: 10, outFile: packFile });
});
afterAll(() => cleanup());

const norm = { mean: [120, 110, 100], std: [60, 55, 50] };
const options = (over: Partial<BatchLoaderOptions>): BatchLoaderOptions => ({
  packFile,
  ids,
  batchSize: 4,
  inputSize: 7,
  train: true,
  augment: { crop: true, flip: true, pca: { eigvals: [900, 90, 9], eigvecs: [[0.58, 0.58, 0.57], [0.71, 0, -0.71], [0.41, -0.82, 0.41]], sigma: 0.1 } },
  ...norm,
  seed: 9,
  epoch: 2,
  ...over,
});

async function drain<B>(next: () => Promise<B | null>): Promise<B[]> {
  const out: B[] = [];
  for (let b = await next(); b; b = await next()) {
    out.push(b);
  }
  return out;
}

describe('uint8 batches for a compute window', () => {
  for (const [name, over] of [
    ['training batches (random crops, mirrors, PCA lighting)', {}],
    ['ten-crop evaluation batches', { train: false, evalViews: 'ten-crop' as const }],
  ] as const) {
    it(`${name} normalise to the float loader's batches`, async () => {
      const floats = await createBatchLoader(options(over));
      const raws = await createBatchLoader({ ...options(over), output: 'uint8' as const });
      try {
        const a: Batch[] = await drain(() => floats.next());
        const b: RawBatch[] = await drain(() => raws.next());
        expect(b.length).toBe(Math.ceil(ids.length / 4));
        expect(b.length).toBe(a.length);
        for (let i = 0; i < a.length; i++) {
          expect(b[i]!.x).toBeInstanceOf(Uint8Array);
          expect(b[i]!.x.length).toBe(a[i]!.x.length);
          expect(b[i]!.shape).toEqual(a[i]!.shape);
          expect([...b[i]!.ids]).toEqual([...a[i]!.ids]);
          expect(b[i]!.shifts === null).toBe(over !== undefined && 'train' in over);
          const x = normalise(b[i]!.x, { mean: norm.mean as [number, number, number], std: norm.std as [number, number, number] }, b[i]!.shifts, b[i]!.views ?? 1);
          let worst = 0;
          x.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - a[i]!.x[k]!))));
          expect(worst).toBeLessThan(1e-5);
        }
        // Lighting really varies per image (else the test above would not tell shifts apart).
        if (!('train' in over)) {
          expect(new Set(Array.from(b[0]!.shifts!).map((v) => v.toFixed(3))).size).toBeGreaterThan(3);
        }
      } finally {
        await Promise.all([floats.close(), raws.close()]);
      }
    });
  }

  it('cross the port as a quarter of the bytes, shifts transferred, and arrive as the same floats', async () => {
    const floats = await createBatchLoader(options({}));
    const raws = await createBatchLoader({ ...options({}), output: 'uint8' as const });
    const sent: Array<{ m: ComputeBatch; transfer: ArrayBuffer[] }> = [];
    const source = new PortBatchSource('train', raws.batchesPerEpoch, (m) => feed(m), { mean: norm.mean as [number, number, number], std: norm.std as [number, number, number] }, 2);
    const feed = createBatchFeeder(
      { train: raws, val: null },
      (m: ToCompute, transfer) => {
        if (m.type === 'batch') {
          sent.push({ m, transfer });
          source.deliver(m);
        } else if (m.type === 'end-of-epoch') {
          source.endOfEpoch(m.ticket);
        }
      },
      (err) => {
        throw err;
      },
    );
    try {
      source.seek(2, 0);
      const got = await drain(() => source.next());
      const want = await drain(() => floats.next());
      expect(got.length).toBe(want.length);
      got.forEach((g, i) => {
        let worst = 0;
        g.x.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[i]!.x[k]!))));
        expect(worst).toBeLessThan(1e-5);
      });
      const first = sent[0]!;
      expect(first.m.dtype).toBe('uint8');
      expect(first.m.pixels.byteLength).toBe(want[0]!.x.byteLength / 4);
      expect(first.m.shifts).toBeInstanceOf(ArrayBuffer);
      expect(first.transfer).toContain(first.m.shifts);
      expect(first.transfer).toContain(first.m.pixels);
    } finally {
      await Promise.all([floats.close(), raws.close(), source.close()]);
    }
  });
});
