import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { MAX_FILE_BYTES, sniffFormat } from '../datasets/image-probe.js';
import type { Studio } from '../studio.js';
import type { RouteHandler } from './index.js';
import { refuseUpload, replyOk, sameOrigin } from './route-reply.js';
import { safeRelativePath } from './upload-names.js';
import { extractZip, formatBytes, ZipRefusedError } from './zip-extract.js';

/** What one upload may weigh. */
export interface UploadLimits {
  /** One image or label file. */
  fileBytes: number;
  /** One zip archive. */
  archiveBytes: number;
  /** What one archive may unpack to. */
  unzippedBytes: number;
  /** Files and folders in one archive. */
  entries: number;
  /** Everything uploaded into one batch (files plus unpacked archives). */
  batchBytes: number;
}

/** Defaults: an image as large as the importer takes, archives up to the plain-zip limit of 4 GiB. */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  fileBytes: MAX_FILE_BYTES,
  archiveBytes: 4 * 1024 ** 3 - 1,
  unzippedBytes: 16 * 1024 ** 3,
  entries: 65_535,
  batchBytes: 32 * 1024 ** 3,
};

/** Limits scaled from one figure (`convnet serve --upload-limit MB`): files and archives up to it, unpacked 4×. */
export function uploadLimitsFrom(megabytes: number): UploadLimits {
  const bytes = Math.floor(megabytes * 1024 * 1024);
  return { ...DEFAULT_UPLOAD_LIMITS, fileBytes: bytes, archiveBytes: bytes, unzippedBytes: 4 * bytes, batchBytes: 4 * bytes };
}

/** The folder inside a library that holds everything uploaded through the browser. */
export function uploadsDir(libraryDir: string): string {
  return path.join(libraryDir, 'uploads');
}

const BATCH_ID = /^\d{8}-\d{6}-[0-9a-f]{8}$/;
const ROUTE = /^\/upload\/([^/]+)\/(file|zip)$/;
/** Label files an import reads next to its images. */
const LABEL_FILE = /\.(csv|tsv)$/i;
/** Weights files (torchvision .pth, ONNX) the browser sends for models.import. */
const MODEL_WEIGHTS_FILE = /\.(pth|pt|onnx)$/i;
/** Bytes enough to recognise every supported image container. */
const HEAD_BYTES = 32;

/** A request the route refuses, with the status and message the client gets. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Browser-mode uploads, streamed to disk inside `<library>/uploads/<batch>/`:
 * `POST /upload/batch` opens a batch; `PUT /upload/<batch>/file?name=<relative path>` stores one image (or CSV
 * label file), refused with 415 when its bytes are no image; `PUT /upload/<batch>/zip?name=<archive.zip>`
 * stores and unpacks a zip (names, links, size and entry count checked). The answers name the server paths,
 * which the client then hands to `classify.files` or `datasets.import` as it would typed paths.
 */
export function uploadRoutes(studio: Pick<Studio, 'library'>, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS): RouteHandler {
  const root = uploadsDir(studio.library.dir);
  const batchBytes = new Map<string, number>();

  return async (req, res, url) => {
    if (!url.pathname.startsWith('/upload/')) {
      return false;
    }
    if (!sameOrigin(req)) {
      refuseUpload(req, res, 403, 'Uploads are accepted only from this server’s own pages.');
      return true;
    }
    if (url.pathname === '/upload/batch') {
      if (req.method !== 'POST') {
        refuseUpload(req, res, 405, 'Use POST to open an upload batch.');
        return true;
      }
      const id = `${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
      const dir = path.join(root, id);
      await mkdir(dir, { recursive: true });
      batchBytes.set(id, 0);
      replyOk(res, { id, dir, limits });
      return true;
    }
    const match = ROUTE.exec(url.pathname);
    if (!match || req.method !== 'PUT') {
      refuseUpload(req, res, match ? 405 : 404, match ? 'Use PUT with the file as the body.' : 'Not found: uploads go to /upload/batch, then /upload/<batch>/file or /upload/<batch>/zip.');
      return true;
    }
    const [, id, kind] = match as unknown as [string, string, 'file' | 'zip'];
    const batchDir = path.join(root, id);
    if (!BATCH_ID.test(id) || !(await stat(batchDir).then((s) => s.isDirectory(), () => false))) {
      refuseUpload(req, res, 404, `No upload batch ${JSON.stringify(id)}: open one with POST /upload/batch.`);
      return true;
    }
    const name = url.searchParams.get('name') ?? '';
    const relative = safeRelativePath(name);
    if (typeof relative !== 'string') {
      refuseUpload(req, res, 400, `The file name ${JSON.stringify(name)} ${relative.reason}; nothing was written.`);
      return true;
    }
    const used = batchBytes.get(id) ?? 0;
    try {
      if (kind === 'file') {
        const dest = path.join(batchDir, relative);
        const bytes = await receive(req, dest, Math.min(limits.fileBytes, limits.batchBytes - used), imageCheck(relative), limitMessage(relative, 'file', limits, used));
        batchBytes.set(id, (batchBytes.get(id) ?? 0) + bytes);
        replyOk(res, { path: dest, bytes });
      } else {
        if (!/\.zip$/i.test(relative) || relative.includes('/')) {
          throw new Refused(400, `${JSON.stringify(name)} is not a .zip file name.`);
        }
        const dest = path.join(batchDir, relative.slice(0, -4));
        if (await stat(dest).then(() => true, () => false)) {
          throw new Refused(409, `This batch already holds ${path.basename(dest)}; open a new batch.`);
        }
        const archive = path.join(batchDir, `.incoming-${randomBytes(4).toString('hex')}.zip`);
        let unpacked: { files: number; bytes: number };
        try {
          await receive(req, archive, limits.archiveBytes, zipCheck, limitMessage(relative, 'archive', limits, used));
          const unzipLimits = { totalBytes: Math.min(limits.unzippedBytes, limits.batchBytes - used), entries: limits.entries };
          unpacked = await extractZip(archive, dest, unzipLimits);
        } finally {
          // Gone before the answer, so a client that lists the batch next never sees the archive.
          await rm(archive, { force: true });
        }
        batchBytes.set(id, (batchBytes.get(id) ?? 0) + unpacked.bytes);
        replyOk(res, { dir: dest, root: await singleFolderInside(dest), files: unpacked.files, bytes: unpacked.bytes });
      }
    } catch (err) {
      if (err instanceof Refused || err instanceof ZipRefusedError) {
        refuseUpload(req, res, err.status, err.message);
        return true;
      }
      throw err;
    }
    return true;
  };
}

/** The 413 message: over the per-file (or per-archive) limit, or over what is left of the batch's. */
function limitMessage(name: string, what: 'file' | 'archive', limits: UploadLimits, used: number): string {
  const limit = what === 'file' ? limits.fileBytes : limits.archiveBytes;
  return what === 'file' && used + limit > limits.batchBytes
    ? `${name} is larger than the ${formatBytes(Math.max(0, limits.batchBytes - used))} left of this upload (${formatBytes(limits.batchBytes)} at most, or ${formatBytes(limit)} for one file); upload the rest separately.`
    : `${name} is larger than ${formatBytes(limit)}, the most accepted for one ${what}.`;
}

/** Why the first bytes of an uploaded file are refused, or null: images (by content) and CSV/TSV label files pass. */
function imageCheck(name: string): (head: Buffer) => string | null {
  return (head) => {
    if (head.length === 0) {
      return `${name} is empty (0 bytes).`;
    }
    if (sniffFormat(head)) {
      return null;
    }
    if (LABEL_FILE.test(name) && !head.includes(0)) {
      return null;
    }
    if (MODEL_WEIGHTS_FILE.test(name)) {
      return null; // a .pth / .onnx for models.import, which reads and checks it whole
    }
    return `${name} is not an image: its content is not JPEG, PNG, GIF, WebP, TIFF, BMP or AVIF.`;
  };
}

function zipCheck(head: Buffer): string | null {
  return head.length >= 4 && head.readUInt32LE(0) === 0x04034b50 ? null : 'The upload is not a zip archive.';
}

/**
 * Streams the request body into `dest` (through a `.part` file renamed at the end), refusing it past `limit`
 * bytes (413) or when `check` objects to its first bytes (415). Returns the bytes written; a refusal leaves no file.
 */
async function receive(req: IncomingMessage, dest: string, limit: number, check: (head: Buffer) => string | null, tooLarge: string): Promise<number> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new Refused(413, tooLarge);
  }
  await mkdir(path.dirname(dest), { recursive: true });
  if (await stat(dest).then(() => true, () => false)) {
    throw new Refused(409, `${path.basename(dest)} was uploaded already in this batch.`);
  }
  const part = `${dest}.part-${randomBytes(4).toString('hex')}`;
  const out = createWriteStream(part, { flags: 'wx' });
  try {
    const bytes = await new Promise<number>((resolve, reject) => {
      let size = 0;
      let head: Buffer | null = Buffer.alloc(0);
      const fail = (err: Error): void => {
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        req.pause();
        reject(err);
      };
      const checkHead = (): boolean => {
        const why = check(head!);
        head = null;
        if (why) {
          fail(new Refused(415, why));
          return false;
        }
        return true;
      };
      const onData = (chunk: Buffer): void => {
        size += chunk.length;
        if (size > limit) {
          fail(new Refused(413, tooLarge));
          return;
        }
        if (head) {
          head = Buffer.concat([head, chunk]);
          if (head.length >= HEAD_BYTES && !checkHead()) {
            return;
          }
        }
        if (!out.write(chunk)) {
          req.pause();
        }
      };
      const onEnd = (): void => {
        if (head && !checkHead()) {
          return;
        }
        resolve(size);
      };
      out.on('drain', () => req.resume());
      out.once('error', fail);
      req.on('data', onData);
      req.once('end', onEnd);
      // A client that goes away mid-body (cancelled, lost) leaves no part file behind.
      req.once('close', () => {
        if (!req.complete) {
          fail(new Refused(400, 'The upload was interrupted before the whole file arrived.'));
        }
      });
    });
    await closeStream(out);
    await rename(part, dest);
    return bytes;
  } catch (err) {
    // A refusal can come before the stream has opened its file: destroy() then still opens (creating the
    // part file) before it closes, so remove the file only once the stream has closed.
    await new Promise<void>((resolve) => {
      if (out.closed) {
        resolve();
        return;
      }
      out.once('close', () => resolve());
      out.destroy();
    });
    await rm(part, { force: true });
    throw err;
  }
}

function closeStream(out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The folder to import from an unpacked archive: its one top-level folder when it holds nothing else. */
async function singleFolderInside(dir: string): Promise<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.length === 1 && entries[0]!.isDirectory() ? path.join(dir, entries[0]!.name) : dir;
}
