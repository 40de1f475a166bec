import sharp from 'sharp';

/**
 * Decodes an image file to size×size uint8 HWC RGB: first frame, EXIF-oriented, alpha flattened
 * onto black, greyscale/CMYK/16-bit converted to 8-bit sRGB, short side resized to `size`, centre crop.
 */
export async function decodeSquare(path: string, size: number): Promise<Buffer> {
  // failOn 'error' rather than the default 'warning': many camera JPEGs carry benign warnings.
  const { data, info } = await sharp(path, { failOn: 'error', pages: 1 })
    .autoOrient()
    .flatten({ background: '#000000' })
    .toColourspace('srgb')
    .resize(size, size, { fit: 'cover', position: 'centre' })
    .raw()
    .toBuffer({ resolveWithObject: true });
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
