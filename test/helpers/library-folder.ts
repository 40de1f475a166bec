// Image folders for Library tests: a few real, distinct pictures per class made with sharp (plus a corrupt
// file), and thousands of tiny unique PNGs written directly (fast enough to keep an import busy for seconds).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { pngChunk } from './image-folder.js';

/** Writes `root/<class>/<class>_<i>.jpg` (the last of each class a PNG), all different, and `dog/broken.jpg` if asked. */
export async function makePicturesFolder(root: string, classes: Record<string, string>, perClass: number, corrupt = true): Promise<void> {
  let n = 0;
  for (const [name, colour] of Object.entries(classes)) {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++, n++) {
      const [w, h] = i % 2 ? [320, 240] : [240, 240];
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
        <rect width="100%" height="100%" fill="hsl(${n * 29}, 30%, 92%)"/>
        <circle cx="${w / 2 + i * 9}" cy="${h / 2 - i * 5}" r="${40 + i * 12}" fill="${colour}"/>
        <text x="12" y="${h - 14}" font-family="sans-serif" font-size="22" fill="#333">${name} ${i}</text></svg>`;
      const last = i === perClass - 1;
      const image = sharp(Buffer.from(svg));
      await (last ? image.png() : image.jpeg({ quality: 85 })).toFile(path.join(root, name, `${name}_${i}.${last ? 'png' : 'jpg'}`));
    }
  }
  if (corrupt) {
    const dir = path.join(root, Object.keys(classes)[1] ?? Object.keys(classes)[0] ?? 'broken');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'broken.jpg'), Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('not really a jpeg')]));
  }
}

/** A valid 8×8 RGB PNG whose pixels encode `seed`, so every seed gives different bytes (no duplicates). */
export function tinyPng(seed: number): Buffer {
  const size = 8;
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size * 3; x++) {
      raw[y * (1 + size * 3) + 1 + x] = (seed >> ((x + y) % 24)) & 0xff ^ (x * 16 + y * 8);
    }
  }
  raw.writeUInt32BE(seed >>> 0, 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** Writes `count` tiny unique PNGs into `root/<class>/` for each class name. */
export function makeTinyFolder(root: string, classNames: string[], count: number): void {
  let seed = 1;
  for (const name of classNames) {
    fs.mkdirSync(path.join(root, name), { recursive: true });
    for (let i = 0; i < count; i++) {
      fs.writeFileSync(path.join(root, name, `${String(i).padStart(5, '0')}.png`), tinyPng(seed++));
    }
  }
}
