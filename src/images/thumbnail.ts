import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import sharp from 'sharp';
import { decodeBytesOf } from './decode.js';

/** Size of a written thumbnail. */
export interface ThumbnailInfo {
  width: number;
  height: number;
  format: 'webp' | 'jpeg';
}

/**
 * Writes an EXIF-rotated thumbnail whose longer side is at most maxSide; webp or jpeg by destPath's extension; atomic.
 * A source whose bytes do not decode throws UndecodableImageError (the import only checked its header and structure);
 * a source that cannot be read, or a thumbnail that cannot be written, throws the file-system error.
 */
export async function makeThumbnail(srcPath: string, destPath: string, maxSide: number, quality = 80): Promise<ThumbnailInfo> {
  if (!Number.isInteger(maxSide) || maxSide <= 0) {
    throw new Error(`maxSide must be a positive integer, got ${maxSide}`);
  }
  const ext = extname(destPath).toLowerCase();
  const format = ext === '.webp' ? 'webp' : ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : null;
  if (!format) {
    throw new Error(`thumbnail path must end in .webp, .jpg or .jpeg: ${destPath}`);
  }
  const { data, info } = await decodeBytesOf(srcPath, (bytes) => {
    let pipeline = sharp(bytes, { failOn: 'error', pages: 1 })
      .autoOrient()
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
    // JPEG has no alpha: show transparency as white, as image viewers do.
    pipeline = format === 'webp' ? pipeline.webp({ quality }) : pipeline.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true });
    return pipeline.toBuffer({ resolveWithObject: true });
  });
  await mkdir(dirname(destPath), { recursive: true });
  const temp = `${destPath}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(temp, data);
    await rename(temp, destPath);
    return { width: info.width, height: info.height, format };
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
