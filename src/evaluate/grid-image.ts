import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** Geometry of a grid of equal square-ish tiles separated by a gap. */
export interface GridLayout {
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
  gap: number;
  width: number;
  height: number;
}

/** Lays `count` tiles of a size out in a near-square grid with a gap around every tile. */
export function gridLayout(count: number, tileWidth: number, tileHeight: number, gap: number): GridLayout {
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const rows = Math.max(1, Math.ceil(count / columns));
  return { columns, rows, tileWidth, tileHeight, gap, width: columns * tileWidth + (columns + 1) * gap, height: rows * tileHeight + (rows + 1) * gap };
}

/**
 * Renders tiles into one RGB raster: tile t reads its source pixel (x, y) through `pixel(t, x, y)`
 * (RGB 0–255) and is enlarged `scale` times by nearest neighbour, as kernel pictures are.
 */
export function renderGrid(
  layout: GridLayout,
  count: number,
  scale: number,
  pixel: (tile: number, x: number, y: number, rgb: [number, number, number]) => void,
  background = 40,
): Uint8Array {
  const { width, height, columns, tileWidth, tileHeight, gap } = layout;
  const raster = new Uint8Array(width * height * 3).fill(background);
  const rgb: [number, number, number] = [0, 0, 0];
  for (let t = 0; t < count; t++) {
    const ox = gap + (t % columns) * (tileWidth + gap);
    const oy = gap + Math.floor(t / columns) * (tileHeight + gap);
    for (let y = 0; y < tileHeight; y++) {
      for (let x = 0; x < tileWidth; x++) {
        pixel(t, Math.floor(x / scale), Math.floor(y / scale), rgb);
        const o = ((oy + y) * width + ox + x) * 3;
        raster[o] = rgb[0];
        raster[o + 1] = rgb[1];
        raster[o + 2] = rgb[2];
      }
    }
  }
  return raster;
}

/** Encodes an RGB raster as PNG into `file` atomically. */
export async function writePng(file: string, raster: Uint8Array, width: number, height: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await sharp(Buffer.from(raster.buffer, raster.byteOffset, raster.byteLength), { raw: { width, height, channels: 3 } }).png().toFile(tmp);
  fs.renameSync(tmp, file);
}

/** Min and max of `count` values read by `at(i)`; a flat range becomes [min, min + 1] so scaling never divides by zero. */
export function rangeOf(count: number, at: (i: number) => number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = at(i);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}
