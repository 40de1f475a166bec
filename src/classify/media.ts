import fs from 'node:fs';
import sharp from 'sharp';
import { ApiError } from '../api/errors.js';
import { decodeBytesOf } from '../images/decode.js';
import { MAX_PIXELS } from '../datasets/image-probe.js';
import type { MediaResolver } from '../api/media.js';
import { classifiedGradcamFile } from './explain-classified.js';
import type { ClassifyJobs } from './jobs.js';

/** Longer side of the picture a result card shows. */
const CARD_SIDE = 256;

const ROUTE = /^\/media\/classified\/([0-9a-f-]{36})\/(\d{1,9})(?:\/gradcam\/([0-9a-f]{16})\.png)?$/;

/**
 * `/media/classified/<jobId>/<n>`: a small webp of the n-th classified image of a job (the file the engine read,
 * uploaded or on the server's disk), addressed by job and position, never by a client-supplied path;
 * `/media/classified/<jobId>/<n>/gradcam/<name>.png`: a Grad-CAM overlay of it that classify.gradcam made.
 */
export function classifiedMediaResolver(jobs: ClassifyJobs): MediaResolver {
  return async (url) => {
    if (!url.pathname.startsWith('/media/classified/')) {
      return null;
    }
    const match = ROUTE.exec(url.pathname);
    if (!match) {
      return { status: 404, message: 'Not found: classified images are addressed as /media/classified/<job id>/<position>.' };
    }
    let results;
    try {
      results = jobs.get(match[1]!).results;
    } catch (err) {
      return { status: 404, message: err instanceof ApiError ? err.message : 'No such classification job.' };
    }
    const item = results[Number(match[2])];
    if (!item) {
      return { status: 404, message: `Job ${match[1]} has no result ${match[2]}.` };
    }
    if (match[3]) {
      const file = classifiedGradcamFile(jobs, match[1]!, Number(match[2]), match[3]);
      return fs.existsSync(file)
        ? { status: 200, contentType: 'image/png', file, cacheSeconds: 0 }
        : { status: 404, message: 'Not made yet: ask classify.gradcam first.' };
    }
    try {
      const body = await decodeBytesOf(item.path, (bytes) =>
        sharp(bytes, { failOn: 'none', pages: 1, limitInputPixels: MAX_PIXELS })
          .autoOrient()
          .resize(CARD_SIDE, CARD_SIDE, { fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 80 })
          .toBuffer(),
      );
      return { status: 200, contentType: 'image/webp', body, cacheSeconds: 3600 };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? { status: 404, message: `The file is gone: ${item.path}` }
        : { status: 415, message: `Cannot show ${item.path}: ${(err as Error).message.split('\n')[0]}` };
    }
  };
}
