import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** A fresh temp directory and its remover. */
export async function tempDir(prefix = 'convnet-images-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes a raw RGB(A) buffer as an image file. */
export async function writeRaw(path: string, data: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): Promise<string> {
  let img = sharp(Buffer.from(data), { raw: { width, height, channels } });
  img = path.endsWith('.jpg') ? img.jpeg({ quality: 95 }) : img.png();
  await img.toFile(path);
  return path;
}

/** A solid-colour PNG. */
export function solid(path: string, width: number, height: number, rgb: [number, number, number]): Promise<string> {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data.set(rgb, p * 3);
  }
  return writeRaw(path, data, width, height);
}

/** A PNG whose left half is `left` and right half `right`. */
export function halves(path: string, width: number, height: number, left: [number, number, number], right: [number, number, number]): Promise<string> {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data.set(x < width / 2 ? left : right, (y * width + x) * 3);
    }
  }
  return writeRaw(path, data, width, height);
}

/** The mixed folder the pack tests use, by name. */
export async function imageFolder(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  files.red = await solid(join(dir, 'red.png'), 40, 30, [255, 0, 0]);
  files.blue = await solid(join(dir, 'blue.png'), 12, 12, [0, 0, 255]);
  // Horizontal gradient 0..255 across 64 px, same in every channel.
  const grad = new Uint8Array(64 * 16 * 3);
  for (let y = 0; y < 16; y++) {
    for (let x = 0; x < 64; x++) {
      grad.fill(Math.round((x * 255) / 63), (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
    }
  }
  files.gradient = await writeRaw(join(dir, 'gradient.png'), grad, 64, 16);
  // Fully transparent white: if alpha were ignored it would pack as white.
  const alpha = new Uint8Array(16 * 16 * 4);
  for (let p = 0; p < 256; p++) {
    alpha.set([255, 255, 255, 0], p * 4);
  }
  files.alpha = await writeRaw(join(dir, 'alpha.png'), alpha, 16, 16, 4);
  files.grey = join(dir, 'grey.png');
  await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 90, g: 90, b: 90 } } })
    .toColourspace('b-w')
    .png()
    .toFile(files.grey);
  // Stored 40×20 red|blue; EXIF orientation 6 displays it 20×40 with red on top, blue below.
  files.exif = join(dir, 'exif.jpg');
  const stored = await halves(join(dir, 'exif-src.png'), 40, 20, [255, 0, 0], [0, 0, 255]);
  await sharp(stored).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(files.exif);
  files.corrupt = join(dir, 'corrupt.jpg');
  await writeFile(files.corrupt, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('garbage that is not a jpeg body')]));
  files.empty = join(dir, 'empty.png');
  await writeFile(files.empty, '');
  files.missing = join(dir, 'does-not-exist.png');
  return files;
}
