import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { safeRelativePath } from './upload-names.js';

/** Caps on what one archive may unpack to. */
export interface UnzipLimits {
  /** Sum of the entries' uncompressed sizes. */
  totalBytes: number;
  /** Number of entries (files and folders). */
  entries: number;
}

/** A refused archive: the reason in words, and the HTTP status that fits it. */
export class ZipRefusedError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = 'ZipRefusedError';
  }
}

/** One file of the central directory, checked. */
interface ZipEntry {
  name: string;
  method: 0 | 8;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** Central directories larger than this are not read (100,000 entries with long names fit). */
const MAX_CENTRAL_BYTES = 64 * 1024 * 1024;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Entries that carry no user data (macOS resource forks, Finder and Explorer litter). */
function isLitter(segments: string[]): boolean {
  return segments.some((s) => s.startsWith('.') || s === '__MACOSX' || s.toLowerCase() === 'thumbs.db' || s.toLowerCase() === 'desktop.ini');
}

async function readAt(file: import('node:fs/promises').FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/**
 * Reads and checks the central directory of the zip at `zipFile`: every entry a plain file or folder with a
 * relative name that stays inside the destination (no `..`, no absolute or drive paths, no symbolic links,
 * devices or encrypted entries), stored or deflated, and within the entry-count and unpacked-size caps.
 */
export async function readZipDirectory(zipFile: string, limits: UnzipLimits): Promise<{ files: ZipEntry[]; folders: string[] }> {
  const file = await open(zipFile, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, 22 + 65_535);
    const tail = await readAt(file, size - tailLength, tailLength);
    let at = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        at = i;
        break;
      }
    }
    if (at < 0) {
      throw new ZipRefusedError(415, 'Not a zip archive (no end-of-archive record).');
    }
    const count = tail.readUInt16LE(at + 10);
    const centralSize = tail.readUInt32LE(at + 12);
    const centralOffset = tail.readUInt32LE(at + 16);
    if (count === 0xffff || centralSize === 0xffffffff || centralOffset === 0xffffffff) {
      throw new ZipRefusedError(415, 'ZIP64 archives (over 4 GB or 65,535 entries) are not supported; split the archive or upload the folder.');
    }
    if (count > limits.entries) {
      throw new ZipRefusedError(413, `The archive has ${count} entries; at most ${limits.entries} are accepted.`);
    }
    if (centralSize > MAX_CENTRAL_BYTES || centralOffset + centralSize > size) {
      throw new ZipRefusedError(400, 'The zip archive is damaged (its directory lies outside the file).');
    }
    const central = await readAt(file, centralOffset, centralSize);
    const files: ZipEntry[] = [];
    const folders: string[] = [];
    const names = new Set<string>();
    let total = 0;
    let p = 0;
    for (let n = 0; n < count; n++) {
      if (p + 46 > central.length || central.readUInt32LE(p) !== CENTRAL) {
        throw new ZipRefusedError(400, 'The zip archive is damaged (bad directory entry).');
      }
      const madeBy = central.readUInt16LE(p + 4) >> 8;
      const flags = central.readUInt16LE(p + 8);
      const method = central.readUInt16LE(p + 10);
      const crc = central.readUInt32LE(p + 16);
      const compressedSize = central.readUInt32LE(p + 20);
      const uncompressed = central.readUInt32LE(p + 24);
      const nameLength = central.readUInt16LE(p + 28);
      const extraLength = central.readUInt16LE(p + 30);
      const commentLength = central.readUInt16LE(p + 32);
      const mode = central.readUInt32LE(p + 38) >>> 16;
      const localOffset = central.readUInt32LE(p + 42);
      const rawName = central.subarray(p + 46, p + 46 + nameLength);
      p += 46 + nameLength + extraLength + commentLength;
      // Bit 11: UTF-8 names; older tools wrote their code page, read here as Latin-1.
      const name = rawName.toString(flags & 0x800 ? 'utf8' : 'latin1');
      const shown = JSON.stringify(name);
      const type = madeBy === 3 ? mode & S_IFMT : 0;
      if (type === S_IFLNK) {
        throw new ZipRefusedError(400, `The archive holds a symbolic link (${shown}); links are refused.`);
      }
      const isFolder = name.endsWith('/') || name.endsWith('\\') || type === S_IFDIR;
      if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
        throw new ZipRefusedError(400, `The archive holds a special file (${shown}); only files and folders are accepted.`);
      }
      const relative = safeRelativePath(name.replace(/\\/g, '/'));
      if (typeof relative !== 'string') {
        throw new ZipRefusedError(400, `The archive entry ${shown} ${relative.reason}; nothing was unpacked.`);
      }
      if (isLitter(relative.split('/'))) {
        continue;
      }
      if (isFolder) {
        folders.push(relative);
        continue;
      }
      if (flags & 1) {
        throw new ZipRefusedError(415, `The archive entry ${shown} is encrypted; upload an archive without a password.`);
      }
      if (method !== 0 && method !== 8) {
        throw new ZipRefusedError(415, `The archive entry ${shown} uses compression method ${method}; only stored and deflated entries are supported.`);
      }
      if (uncompressed === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
        throw new ZipRefusedError(415, 'ZIP64 archives (over 4 GB or 65,535 entries) are not supported; split the archive or upload the folder.');
      }
      const key = relative.toLowerCase();
      if (names.has(key)) {
        throw new ZipRefusedError(400, `The archive holds ${shown} twice (names differing only in case count as the same).`);
      }
      names.add(key);
      total += uncompressed;
      if (total > limits.totalBytes) {
        throw new ZipRefusedError(413, `The archive unpacks to more than ${formatBytes(limits.totalBytes)}, the most accepted.`);
      }
      files.push({ name: relative, method, crc, compressedSize, size: uncompressed, localOffset });
    }
    return { files, folders };
  } finally {
    await file.close();
  }
}

/** Counts bytes through a stream and fails once more than `max` pass (an entry that lies about its size). */
function sizeGuard(max: number, name: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) {
        done(new ZipRefusedError(413, `The archive entry ${JSON.stringify(name)} unpacks to more than it declares (a zip bomb?); nothing was unpacked.`));
        return;
      }
      done(null, chunk);
    },
    flush(done) {
      done(seen === max ? null : new ZipRefusedError(400, `The archive entry ${JSON.stringify(name)} is damaged (it unpacks to ${seen} bytes, not ${max}).`));
    },
  });
}

/** Checks the CRC-32 of what passes through against the archive's. */
function crcGuard(expected: number, name: string): Transform {
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      crc = zlib.crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      done(crc >>> 0 === expected >>> 0 ? null : new ZipRefusedError(400, `The archive entry ${JSON.stringify(name)} is damaged (checksum mismatch).`));
    },
  });
}

/**
 * Unpacks the checked archive into `dest` (which must not exist): every entry is streamed through zlib into a
 * staging folder beside `dest`, its size and checksum checked as it goes, and the folder renamed into place
 * only when all entries unpacked. A refused or damaged archive leaves nothing behind.
 */
export async function extractZip(zipFile: string, dest: string, limits: UnzipLimits): Promise<{ files: number; bytes: number }> {
  const { files, folders } = await readZipDirectory(zipFile, limits);
  const staging = path.join(path.dirname(dest), `.unzip-${path.basename(dest)}-${process.pid}-${Date.now()}`);
  await mkdir(staging, { recursive: true });
  try {
    for (const folder of folders) {
      await mkdir(path.join(staging, folder), { recursive: true });
    }
    const handle = await open(zipFile, 'r');
    let bytes = 0;
    try {
      for (const entry of files) {
        const local = await readAt(handle, entry.localOffset, 30);
        if (local.length < 30 || local.readUInt32LE(0) !== LOCAL) {
          throw new ZipRefusedError(400, `The archive entry ${JSON.stringify(entry.name)} is damaged (no local header).`);
        }
        const start = entry.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
        const target = path.join(staging, entry.name);
        await mkdir(path.dirname(target), { recursive: true });
        const out = createWriteStream(target, { flags: 'wx' });
        const size = sizeGuard(entry.size, entry.name);
        const crc = crcGuard(entry.crc, entry.name);
        if (entry.compressedSize === 0) {
          await pipeline(Readable.from([]), size, crc, out);
        } else {
          const source = createReadStream(zipFile, { start, end: start + entry.compressedSize - 1 });
          await (entry.method === 8 ? pipeline(source, zlib.createInflateRaw(), size, crc, out) : pipeline(source, size, crc, out));
        }
        bytes += entry.size;
      }
    } finally {
      await handle.close();
    }
    await rename(staging, dest);
    return { files: files.length, bytes };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (err instanceof ZipRefusedError) {
      throw err;
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
      throw new ZipRefusedError(400, `The zip archive is damaged: ${(err as Error).message}.`);
    }
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new ZipRefusedError(400, 'The archive holds a file and a folder of the same name.');
    }
    throw err;
  }
}

/** Bytes in words (binary units), for limits in messages. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}
