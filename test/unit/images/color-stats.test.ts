import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeColorStats } from '../../../src/images/color-stats.js';
import { openPack, type Pack } from '../../../src/images/open-pack.js';
import { packImages } from '../../../src/images/pack-images.js';
import { solid, tempDir } from './fixtures.js';

let cleanup: () => Promise<void>;
let pack: Pack;

beforeAll(async () => {
  const made = await tempDir();
  cleanup = made.cleanup;
  const colours: Array<[number, number, number]> = [
    [255, 0, 0],
    [0, 0, 255],
    [0, 255, 0],
  ];
  const items = await Promise.all(
    colours.map(async (rgb, i) => ({ id: i + 1, label: 0, path: await solid(join(made.dir, `${i}.png`), 10, 10, rgb) })),
  );
  const outFile = join(made.dir, 'stats.pack');
  await packImages({ items, packSize: 8, outFile });
  pack = openPack(outFile);
});
afterAll(async () => {
  pack.close();
  await cleanup();
});

describe('computeColorStats', () => {
  it('gives the exact mean, covariance and principal axis of a red/blue set', () => {
    const stats = computeColorStats(pack, [1, 2], { pixelsPerImage: 16 });
    const h = 127.5;
    expect(stats.mean).toEqual([h, 0, h]);
    expect(stats.std).toEqual([h, 0, h]);
    expect(stats.covariance).toEqual([
      [h * h, 0, -h * h],
      [0, 0, 0],
      [-h * h, 0, h * h],
    ]);
    expect(stats.eigvals[0]).toBeCloseTo(2 * h * h, 6);
    expect(stats.eigvals[1]).toBeCloseTo(0, 6);
    expect(stats.eigvals[2]).toBeCloseTo(0, 6);
    expect(Math.abs(stats.eigvecs[0][0])).toBeCloseTo(Math.SQRT1_2, 9);
    expect(stats.eigvecs[0][0] * stats.eigvecs[0][2]).toBeCloseTo(-0.5, 9);
    expect(stats.eigvecs[0][1]).toBeCloseTo(0, 9);
    expect(stats).toMatchObject({ images: 2, pixels: 32 });
  });

  it('uses every record by default and is plain JSON', () => {
    const stats = computeColorStats(pack);
    expect(stats.mean).toEqual([85, 85, 85]);
    expect(stats.pixels).toBe(3 * 64);
    expect(JSON.parse(JSON.stringify(stats))).toEqual(stats);
    // Three orthogonal primaries of equal weight: variance 255²·(1/3 − 1/9) on each axis.
    expect(stats.covariance[0][0]).toBeCloseTo(255 * 255 * (2 / 9), 6);
    expect(stats.covariance[0][1]).toBeCloseTo(-255 * 255 * (1 / 9), 6);
  });

  it('refuses ids that are not in the pack', () => {
    expect(() => computeColorStats(pack, [99])).toThrow(/not in the pack/);
    expect(() => computeColorStats(pack, [])).toThrow(/at least one/);
  });
});
