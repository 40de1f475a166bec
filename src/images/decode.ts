import { readFile } from 'node:fs/promises';
import sharp from 'sharp';

/**
 * An image file whose bytes were read but do not decode (a header that looked right over a corrupt body,
 * or a variant libvips cannot read). The import checks headers and structure only, so these surface when
 * a thumbnail or the training cache decodes the file; `reason` says why, in words.
 */
export class UndecodableImageError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UndecodableImageError';
  }
}

/** First line of a libvips/sharp error, without its "Input buffer" prefix. */
function decoderMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.replace(/^Input (buffer|file) /, '').trim().slice(0, 200);
}

/**
 * Reads a whole file, then runs `decode` on its bytes. Read errors (permissions, a vanished file) are thrown
 * as they are; a decoder error becomes an UndecodableImageError, so callers can tell a broken image from a
 * file they could not read.
 */
export async function decodeBytesOf<T>(path: string, decode: (bytes: Buffer) => Promise<T>): Promise<T> {
  const bytes = await readFile(path);
  try {
    return await decode(bytes);
  } catch (err) {
    throw new UndecodableImageError(`the image data does not decode: ${decoderMessage(err)}`);
  }
}

/**
 * Decodes an image file to size×size uint8 HWC RGB: first frame, EXIF-oriented, alpha flattened
 * onto black, greyscale/CMYK/16-bit converted to 8-bit sRGB, short side resized to `size`, centre crop.
 * Throws UndecodableImageError when the bytes do not decode.
 */
export async function decodeSquare(path: string, size: number): Promise<Buffer> {
  // failOn 'error' rather than the default 'warning': many camera JPEGs carry benign warnings.
  const { data, info } = await decodeBytesOf(path, (bytes) =>
    sharp(bytes, { failOn: 'error', pages: 1 })
      .autoOrient()
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .resize(size, size, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  if (info.width !== size || info.height !== size) {
    throw new Error(`decoded to ${info.width}×${info.height}, expected ${size}×${size}`);
  }
  return toRgb(data, info.channels, size * size);
}

/** Coerces 1–4 channel uint8 pixels to 3-channel RGB (sharp normally already gives 3). */
function toRgb(data: Buffer, channels: number, pixels: number): Buffer {
  if (channels === 3) {
    return data;
  }
  const out = Buffer.alloc(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < 3; c++) {
      // Grey (1–2 channels) repeats channel 0; 4 channels drops the 4th.
      out[p * 3 + c] = data[p * channels + (channels < 3 ? 0 : c)]!;
    }
  }
  return out;
}
