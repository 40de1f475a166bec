import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeThumbnail } from '../../../src/images/thumbnail.js';
import { imageFolder, tempDir } from './fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let files: Record<string, string>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  files = await imageFolder(dir);
});
afterAll(() => cleanup());

describe('makeThumbnail', () => {
  it('writes an EXIF-rotated webp bounded by maxSide', async () => {
    const dest = join(dir, 'thumbs', 'a', 'exif.webp');
    const info = await makeThumbnail(files.exif!, dest, 10);
    // Stored 40×20 with orientation 6 → displayed 20×40 → 5×10.
    expect(info).toEqual({ width: 5, height: 10, format: 'webp' });
    const meta = await sharp(dest).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 5, 10]);
    const { data } = await sharp(dest).raw().toBuffer({ resolveWithObject: true });
    // Top row red, bottom row blue (webp is lossy: compare dominant channels).
    expect(data[0]!).toBeGreaterThan(data[2]!);
    const last = data.length - 3;
    expect(data[last + 2]!).toBeGreaterThan(data[last]!);
  });

  it('writes jpeg, never enlarges, and leaves nothing behind on failure', async () => {
    const info = await makeThumbnail(files.blue!, join(dir, 'thumbs', 'blue.jpg'), 64);
    expect(info).toEqual({ width: 12, height: 12, format: 'jpeg' });
    await expect(makeThumbnail(files.corrupt!, join(dir, 'thumbs', 'bad.webp'), 64)).rejects.toThrow();
    await expect(makeThumbnail(files.red!, join(dir, 'thumbs', 'x.gif'), 64)).rejects.toThrow(/\.webp/);
    expect((await readdir(join(dir, 'thumbs'))).sort()).toEqual(['a', 'blue.jpg']);
  });
});
