import { stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Library } from '../library/open.js';
import type { MediaResolver, MediaResponse } from '../api/media.js';
import { decodeBytesOf, UndecodableImageError } from '../images/decode.js';
import { makeThumbnail } from '../images/thumbnail.js';
import { recordUndecodable, type DecodeStep } from './import-writer.js';
import { MAX_PIXELS } from './image-probe.js';

/** Longer side of a grid thumbnail. */
export const THUMB_SIDE = 256;

/** Formats browsers show as they are; others (TIFF, HEIF) are re-encoded. */
const BROWSER_TYPES: Record<string, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', avif: 'image/avif' };

const ROUTE = /^\/media\/(thumb|image)\/([^/]*)$/;

/** Where the thumbnail of some content lives: by content hash, so datasets sharing an image share it. */
export function thumbnailPath(library: Library, sha256: string): string {
  return path.join(library.thumbsDir, sha256.slice(0, 2), `${sha256}-${THUMB_SIDE}.webp`);
}

/**
 * `/media/thumb/<imageId>` (lazy webp thumbnail, cached) and `/media/image/<imageId>` (the image, by id only).
 * The import checks headers only: an image whose bytes turn out not to decode here is recorded as broken in the
 * library (recordUndecodable), and answered 415 with the reason, now and on later requests.
 */
export function datasetMediaResolver(library: Library): MediaResolver {
  const inFlight = new Map<string, Promise<void>>();
  const lookup = library.db.prepare('SELECT path, sha256, format, status, error FROM images WHERE id = ?');
  const broken = (id: number, row: { path: string }, err: unknown, step: DecodeStep): MediaResponse | null => {
    if (!(err instanceof UndecodableImageError)) {return null;}
    recordUndecodable(library.db, id, err.reason, step);
    const now = lookup.get(id) as { error: string | null } | undefined;
    return { status: 415, message: `Cannot show ${row.path}: ${now?.error ?? err.reason}` };
  };

  return async (url: URL): Promise<MediaResponse | null> => {
    const match = ROUTE.exec(url.pathname) ?? (url.pathname.startsWith('/media/thumb/') || url.pathname.startsWith('/media/image/') ? [] : null);
    if (!match) {return null;}
    const [, kind, idText] = match;
    if (!kind || !idText || !/^[1-9]\d{0,15}$/.test(idText)) {
      return { status: 404, message: 'Not found: media is addressed by image id, e.g. /media/thumb/42.' };
    }
    const id = Number(idText);
    const row = lookup.get(id) as { path: string; sha256: string; format: string; status: string; error: string | null } | undefined;
    if (!row) {return { status: 404, message: `No image with id ${idText}.` };}
    if (row.status !== 'ok' && row.error?.startsWith('corrupt ')) {
      // Recorded broken (by an earlier request, the training cache or a re-import): not decoded again.
      return { status: 415, message: `Cannot show ${row.path}: ${row.error}` };
    }
    try {
      const info = await stat(row.path);
      if (!info.isFile()) {throw new Error('not a file');}
    } catch {
      return { status: 404, message: `The source file is missing: ${row.path}` };
    }
    if (kind === 'thumb') {
      const dest = thumbnailPath(library, row.sha256);
      const exists = await stat(dest).then(() => true, () => false);
      if (!exists) {
        let job = inFlight.get(dest);
        if (!job) {
          job = makeThumbnail(row.path, dest, THUMB_SIDE).then(() => undefined);
          inFlight.set(dest, job);
          void job.finally(() => inFlight.delete(dest)).catch(() => undefined);
        }
        try {
          await job;
        } catch (err) {
          return broken(id, row, err, 'thumbnail') ?? { status: 500, message: `Cannot make a thumbnail of ${row.path}: ${(err as Error).message.split('\n')[0]}` };
        }
      }
      return { status: 200, contentType: 'image/webp', file: dest, cacheSeconds: 86_400 };
    }
    const type = BROWSER_TYPES[row.format];
    if (type) {return { status: 200, contentType: type, file: row.path, cacheSeconds: 3600 };}
    try {
      const body = await decodeBytesOf(row.path, (bytes) => sharp(bytes, { failOn: 'error', pages: 1, limitInputPixels: MAX_PIXELS }).autoOrient().webp({ quality: 90 }).toBuffer());
      return { status: 200, contentType: 'image/webp', body, cacheSeconds: 3600 };
    } catch (err) {
      return broken(id, row, err, 'full-size view') ?? { status: 415, message: `Cannot show ${row.format.toUpperCase()} image ${row.path}: ${(err as Error).message.split('\n')[0]}` };
    }
  };
}
