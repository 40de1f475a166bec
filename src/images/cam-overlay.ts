import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

/** Where the network's input square lies in the original (EXIF-oriented) image, in its pixels. */
export interface InputRegion {
  left: number;
  top: number;
  side: number;
}

/**
 * The square of an image the network sees: decodeSquare resizes the short side to `resizeSize` and
 * centre-crops, then the centre view cuts `inputSize` (floor offset) out of that.
 */
export function inputRegion(width: number, height: number, resizeSize: number, inputSize: number): InputRegion {
  const short = Math.min(width, height);
  const scale = short / resizeSize;
  const offset = Math.floor((resizeSize - inputSize) / 2) * scale;
  return { left: (width - short) / 2 + offset, top: (height - short) / 2 + offset, side: inputSize * scale };
}

/** The jet colour map at v ∈ [0, 1]: blue (0) through green to red (1), as 0–255 RGB. */
export function jet(v: number): [number, number, number] {
  const c = (x: number): number => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * v - 3)), c(1.5 - Math.abs(4 * v - 2)), c(1.5 - Math.abs(4 * v - 1))];
}

/** Bilinear sample of a row-major h×w map at continuous cell coordinates (cell centres at integers). */
function sample(map: Float32Array, h: number, w: number, y: number, x: number): number {
  const cy = Math.min(h - 1, Math.max(0, y));
  const cx = Math.min(w - 1, Math.max(0, x));
  const y0 = Math.floor(cy);
  const x0 = Math.floor(cx);
  const y1 = Math.min(h - 1, y0 + 1);
  const x1 = Math.min(w - 1, x0 + 1);
  const fy = cy - y0;
  const fx = cx - x0;
  const top = map[y0 * w + x0]! * (1 - fx) + map[y0 * w + x1]! * fx;
  const bottom = map[y1 * w + x0]! * (1 - fx) + map[y1 * w + x1]! * fx;
  return top * (1 - fy) + bottom * fy;
}

/** How much of the colour map shows over the image at full heat. */
const BLEND = 0.55;

/**
 * Writes `out` (PNG) at the image's own size: the Grad-CAM map (h×w, normalised to its maximum) upsampled
 * bilinearly over the square the network saw and blended in jet colours; what the network did not see is
 * dimmed (`maxSide`: shrunk first to fit that square). Returns the PNG's size.
 */
export async function writeCamOverlay(
  imageFile: string,
  cam: { map: Float32Array; height: number; width: number },
  input: { resizeSize: number; inputSize: number },
  out: string,
  maxSide?: number,
): Promise<{ width: number; height: number }> {
  const image = sharp(await readFile(imageFile), { failOn: 'error', pages: 1 }).autoOrient();
  if (maxSide !== undefined) {
    image.resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  }
  const { data, info } = await image
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const region = inputRegion(width, height, input.resizeSize, input.inputSize);
  const peak = Math.max(0, ...cam.map);
  const rgb = Buffer.alloc(width * height * 3);
  const lut = Array.from({ length: 256 }, (_, i) => jet(i / 255));
  for (let y = 0; y < height; y++) {
    const v = ((y + 0.5 - region.top) / region.side) * cam.height - 0.5;
    const insideY = y + 0.5 >= region.top && y + 0.5 <= region.top + region.side;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * channels;
      const d = (y * width + x) * 3;
      const insideX = x + 0.5 >= region.left && x + 0.5 <= region.left + region.side;
      if (!insideX || !insideY) {
        for (let ch = 0; ch < 3; ch++) {
          rgb[d + ch] = data[s + (channels < 3 ? 0 : ch)]! >> 1;
        }
        continue;
      }
      const u = ((x + 0.5 - region.left) / region.side) * cam.width - 0.5;
      const heat = peak > 0 ? sample(cam.map, cam.height, cam.width, v, u) / peak : 0;
      const colour = lut[Math.round(255 * Math.min(1, Math.max(0, heat)))]!;
      for (let ch = 0; ch < 3; ch++) {
        rgb[d + ch] = Math.round(data[s + (channels < 3 ? 0 : ch)]! * (1 - BLEND) + colour[ch]! * BLEND);
      }
    }
  }
  await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toFile(out);
  return { width, height };
}
