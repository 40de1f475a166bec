// The overlay puts the map over exactly the square the network saw: short side resized to 36, centre crop
// 36×36, then the centre 32×32 (offset 2) — in a 90×50 image, x from 22.78 and y from 2.78, 44.44 px wide.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { inputRegion, writeCamOverlay } from '../../../src/images/cam-overlay.js';
import { tempDir } from '../../helpers/temp.js';

const t = tempDir('convnet-cam-');
afterAll(() => t.cleanup());

describe('writeCamOverlay', () => {
  it('is the input square of the original image', () => {
    const r = inputRegion(90, 50, 36, 32);
    expect(r.left).toBeCloseTo(20 + (2 * 50) / 36, 6);
    expect(r.top).toBeCloseTo((2 * 50) / 36, 6);
    expect(r.side).toBeCloseTo((32 * 50) / 36, 6);
  });

  it('draws the hot cell where the network saw it, at the image size, and dims what it did not see', async () => {
    const image = path.join(t.dir, 'grey.png');
    await sharp({ create: { width: 90, height: 50, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toFile(image);
    const map = new Float32Array(16);
    map[1 * 4 + 2] = 3; // row 1, column 2 of a 4×4 grid: centre at x = 22.78 + 44.44 × 2.5/4 = 50.5, y = 2.78 + 44.44 × 1.5/4 = 19.4
    const out = path.join(t.dir, 'cam.png');
    expect(await writeCamOverlay(image, { map, height: 4, width: 4 }, { resizeSize: 36, inputSize: 32 }, out)).toEqual({ width: 90, height: 50 });
    const { data, info } = await sharp(fs.readFileSync(out)).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([90, 50]);
    const px = (x: number, y: number): number[] => Array.from(data.subarray((y * 90 + x) * info.channels, (y * 90 + x) * info.channels + 3));
    const [r, g, b] = px(50, 19);
    expect(r).toBeGreaterThan(120);
    expect(g).toBeLessThan(70);
    expect(b).toBeLessThan(70);
    for (const [x, y] of [[46, 19], [55, 19], [50, 14], [50, 25]] as const) {
      expect(px(x, y)[0], `(${x}, ${y}) is cooler than the peak`).not.toEqual(r);
    }
    expect(px(35, 40)[2]).toBeGreaterThan(px(35, 40)[0]!); // far from the peak: blue
    expect(px(5, 25)).toEqual([64, 64, 64]); // left of the square: dimmed image
    expect(px(22, 25)).toEqual([64, 64, 64]);
    expect(px(23, 25)).not.toEqual([64, 64, 64]);
    expect(px(66, 25)).not.toEqual([64, 64, 64]); // the square ends at x = 67.22 and y = 47.22 (pixel centres at .5)
    expect(px(67, 25)).toEqual([64, 64, 64]);
    expect(px(50, 46)).not.toEqual([64, 64, 64]);
    expect(px(50, 47)).toEqual([64, 64, 64]);
    expect(px(50, 2)).toEqual([64, 64, 64]);
    expect(px(50, 3)).not.toEqual([64, 64, 64]);
  });
});
