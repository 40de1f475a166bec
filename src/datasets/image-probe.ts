import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFile, readSync } from 'node:fs';
import type { Metadata } from 'sharp';
import type { SkipKind } from '../api/datasets.js';

/** Images over this many pixels are skipped: decoding one could exhaust memory (decompression bombs). */
export const MAX_PIXELS = 100_000_000;
/** Files over this size are not read. */
export const MAX_FILE_BYTES = 1024 ** 3;

/** File extensions the importer treats as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp', '.dib']);

/** What a good image file is: its content hash, header dimensions and format. */
export interface ProbedImage {
  ok: true;
  sha256: string;
  width: number;
  height: number;
  format: string;
}

/** Why a file is not an importable image. */
export interface ProbeFailure {
  ok: false;
  kind: SkipKind;
  reason: string;
  /** Set when the file could be read (so duplicates and cache checks can use it). */
  sha256?: string;
}

/** The container a file's first bytes announce, or null. */
export function sniffFormat(head: Uint8Array): string | null {
  const at = (i: number, ...bytes: number[]): boolean => bytes.every((b, k) => head[i + k] === b);
  const ascii = (i: number, text: string): boolean => at(i, ...Array.from(text, (c) => c.charCodeAt(0)));
  if (at(0, 0xff, 0xd8, 0xff)) {return 'jpeg';}
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) {return 'png';}
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) {return 'gif';}
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) {return 'webp';}
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) {return 'tiff';}
  if (ascii(0, 'BM') && head.length >= 26) {return 'bmp';}
  if (ascii(4, 'ftyp')) {
    const brand = String.fromCharCode(...head.subarray(8, 12));
    return brand === 'avif' || brand === 'avis' ? 'avif' : 'heif';
  }
  return null;
}

function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) {return false;}
  let printable = 0;
  for (const b of head) {
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 128) {printable++;}
  }
  return printable / head.length > 0.95;
}

/** First line of a libvips/sharp error, without its "VipsForeignLoad…" noise. */
export function decoderMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.replace(/^Input (buffer|file) /, '').trim().slice(0, 200);
}

/** Describes a failed read (permissions, vanished file, …) in words. */
export function describeReadError(err: unknown): ProbeFailure {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { ok: false, kind: 'unreadable', reason: 'unreadable: permission denied' };
    case 'ENOENT':
      return { ok: false, kind: 'unreadable', reason: 'unreadable: the file disappeared during the import' };
    case 'ELOOP':
      return { ok: false, kind: 'symlink-loop', reason: 'symbolic link loop' };
    case 'ENAMETOOLONG':
      return { ok: false, kind: 'bad-name', reason: 'path too long for this system' };
    case 'ENOTREG':
      return { ok: false, kind: 'special-file', reason: 'not a regular file any more (a pipe, socket or device took its place after the scan): left out' };
    case 'EISDIR':
      return { ok: false, kind: 'unreadable', reason: 'unreadable: is a folder' };
    default:
      return { ok: false, kind: 'unreadable', reason: `unreadable: ${code ?? (err as Error)?.message ?? String(err)}` };
  }
}

/** Hashes bytes as lowercase hex SHA-256. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** readIntoScratch's buffer (per thread: each has its own module instance); files over 64 MiB get one of their own. */
let scratch = Buffer.alloc(0);
const SCRATCH_MAX = 64 * 1024 ** 2;

/**
 * A whole file, read with blocking calls into this thread's one reused buffer: the size is known from the scan,
 * so it costs open + read + close and makes no garbage. The view is valid until the next call on this thread
 * (copy it before anything asynchronous keeps it).
 */
export function readIntoScratch(path: string, expected: number): Buffer {
  const fd = openRegular(path);
  try {
    // One byte more than expected tells a file that grew since the scan; then its real size is read.
    let size = expected + 1;
    for (;;) {
      if (scratch.length < size && size <= SCRATCH_MAX) {scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_MAX, Math.max(size, 2 * scratch.length, 1 << 20)));}
      const target = size <= SCRATCH_MAX ? scratch : Buffer.allocUnsafeSlow(size);
      let got = 0;
      while (got < size) {
        const n = readSync(fd, target, got, size - got, got);
        if (n === 0) {break;}
        got += n;
      }
      if (got < size) {return target.subarray(0, got);}
      size = fstatSync(fd).size + 1;
    }
  } finally {
    closeSync(fd);
  }
}

/** Refuses files that are empty or too large to read, before reading them. */
function sizeFailure(size: number): ProbeFailure | null {
  if (size === 0) {
    return { ok: false, kind: 'empty', reason: 'empty file (0 bytes)' };
  }
  if (size > MAX_FILE_BYTES) {
    return { ok: false, kind: 'too-large', reason: `file is ${(size / 1024 ** 3).toFixed(1)} GiB; files over 1 GiB are not imported` };
  }
  return null;
}

/**
 * Opens a file to read without waiting on a pipe or device (one can take a file's place between the scan and
 * the read; opening a FIFO blocks until a writer comes), failing with code ENOTREG for anything but a regular file.
 */
function openRegular(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTREG' });
  }
  return fd;
}

/** Reads a whole file (callback readFile: fewer thread-pool round trips than fs/promises' chunked read). */
function readWhole(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let fd: number;
    try {
      fd = openRegular(path);
    } catch (err) {
      reject(err as Error);
      return;
    }
    readFile(fd, (err, data) => {
      closeSync(fd);
      if (err) {reject(err);} else {resolve(data);}
    });
  });
}

/**
 * Reads one file and decides whether it is an importable image: not empty, a known image container,
 * at most MAX_PIXELS by its header, and structurally complete (see probeBytesSync). Nothing is decoded:
 * the thumbnail and the training cache decode lazily and report an image whose body is broken.
 */
export async function probeImage(path: string, size: number): Promise<ProbedImage | ProbeFailure> {
  const early = sizeFailure(size);
  if (early) {return early;}
  let bytes: Buffer;
  try {
    bytes = await readWhole(path);
  } catch (err) {
    return describeReadError(err);
  }
  return probeBytesSync(bytes);
}

/** probeImage on bytes already read. */
export async function probeBytes(bytes: Buffer): Promise<ProbedImage | ProbeFailure> {
  return probeBytesSync(bytes);
}

/**
 * Hash, sniff and header of bytes in memory. JPEG, PNG, GIF and WebP headers are read here (dimensions,
 * then a structural check that catches truncated files without decoding: the end-of-image marker, the
 * IEND chunk, the GIF block chain, the RIFF size); TIFF, AVIF, HEIF and BMP headers are read by libvips.
 */
export function probeBytesSync(bytes: Buffer): ProbedImage | ProbeFailure | Promise<ProbedImage | ProbeFailure> {
  return probeHashedBytes(bytes, sha256Hex(bytes));
}

/** probeBytesSync with the SHA-256 already computed. */
function probeHashedBytes(bytes: Buffer, sha256: string): ProbedImage | ProbeFailure | Promise<ProbedImage | ProbeFailure> {
  if (bytes.length === 0) {
    return { ok: false, kind: 'empty', reason: 'empty file (0 bytes)' };
  }
  const head = bytes.subarray(0, 512);
  const container = sniffFormat(head);
  if (!container) {
    const what = looksLikeText(head) ? 'it contains text' : 'its contents match no supported format';
    return { ok: false, kind: 'not-image', reason: `not an image: ${what} (JPEG, PNG, WebP, GIF, TIFF, AVIF expected)`, sha256 };
  }
  const reader = HEADER_READERS[container];
  if (!reader) {
    return probeWithLibvips(bytes, container, sha256);
  }
  const header = reader(bytes);
  const name = container.toUpperCase();
  if (header.problem !== null) {
    const what = header.problem === 'header' ? `corrupt ${name} header` : `corrupt or truncated ${name}`;
    return { ok: false, kind: 'corrupt', reason: `${what}: ${header.detail}`, sha256 };
  }
  return checked(header.width, header.height, container, container, sha256);
}

/** The dimension checks every format shares: present, and under the decompression-bomb cap. */
function checked(width: number, height: number, container: string, format: string, sha256: string): ProbedImage | ProbeFailure {
  if (!(width > 0) || !(height > 0)) {
    return { ok: false, kind: 'corrupt', reason: `corrupt ${container.toUpperCase()}: no image dimensions in the header`, sha256 };
  }
  if (width * height > MAX_PIXELS) {
    const mp = Math.round((width * height) / 1e6);
    return {
      ok: false,
      kind: 'too-large',
      reason: `too large: ${width}×${height} (${mp} MP) exceeds the ${MAX_PIXELS / 1e6} MP limit that protects against decompression bombs`,
      sha256,
    };
  }
  return { ok: true, sha256, width, height, format };
}

type SharpModule = typeof import('sharp');
let sharpModule: Promise<SharpModule['default']> | null = null;

/** sharp, loaded on first use: an import of JPEG/PNG/GIF/WebP files never loads libvips. */
function loadSharp(): Promise<SharpModule['default']> {
  sharpModule ??= import('sharp').then((m) => {
    // Header reads only: libvips' operation cache would only hold memory.
    m.default.cache(false);
    return m.default;
  });
  return sharpModule;
}

/** TIFF, AVIF/HEIF and BMP: libvips reads the header (no pixels are decoded). */
async function probeWithLibvips(bytes: Buffer, container: string, sha256: string): Promise<ProbedImage | ProbeFailure> {
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  } catch (err) {
    if (container === 'bmp' || container === 'heif') {
      const name = container === 'bmp' ? 'BMP' : 'HEIF/HEIC';
      return { ok: false, kind: 'unsupported', reason: `unsupported format: ${name} cannot be decoded by this build (convert it to PNG or JPEG)`, sha256 };
    }
    return { ok: false, kind: 'corrupt', reason: `corrupt ${container.toUpperCase()} header: ${decoderMessage(err)}`, sha256 };
  }
  const format = meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heif') : (meta.format ?? container);
  return checked(meta.width ?? 0, meta.pageHeight ?? meta.height ?? 0, container, format, sha256);
}

/** True when probeBytesSync answers these bytes without a promise (JPEG, PNG, GIF, WebP, and non-images). */
export function readsByHand(bytes: Uint8Array): boolean {
  const container = sniffFormat(bytes.subarray(0, 512));
  return container === null || HEADER_READERS[container] !== undefined;
}

/** A header read by hand: dimensions, or where the file is broken. */
type Header = { problem: null; width: number; height: number } | { problem: 'header' | 'body'; detail: string };

const HEADER_READERS: Record<string, ((b: Buffer) => Header) | undefined> = { jpeg: jpegHeader, png: pngHeader, gif: gifHeader, webp: webpHeader };

const TRUNCATED = 'the file ends before the image data does';

/** Length of `b` without trailing zero bytes (padding some writers and interrupted copies leave). */
function withoutZeroTail(b: Buffer): number {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) {end--;}
  return end;
}

/** JPEG: segments up to the first scan (the frame header gives the size), then the end-of-image marker. */
function jpegHeader(b: Buffer): Header {
  let i = 2;
  let width = 0;
  let height = 0;
  let frame = false;
  for (;;) {
    if (i >= b.length) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the header)` };}
    if (b[i] !== 0xff) {return { problem: 'header', detail: `no marker at byte ${i}` };}
    while (i < b.length && b[i] === 0xff) {i++;}
    if (i >= b.length) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the header)` };}
    const marker = b[i++]!;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {continue;}
    if (marker === 0xd9) {return { problem: 'header', detail: 'the image ends before any image data' };}
    if (i + 2 > b.length) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the header)` };}
    const length = b.readUInt16BE(i);
    if (length < 2) {return { problem: 'header', detail: `bad segment length at byte ${i}` };}
    if (i + length > b.length) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside a header segment)` };}
    // Start of frame: C0–CF except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc && !frame) {
      if (length < 8) {return { problem: 'header', detail: 'frame header too short' };}
      height = b.readUInt16BE(i + 3);
      width = b.readUInt16BE(i + 5);
      frame = true;
    }
    i += length;
    if (marker === 0xda) {
      if (!frame) {return { problem: 'header', detail: 'image data before the frame header' };}
      break;
    }
  }
  // Fast path: the file ends with EOI (FFD9), perhaps followed by zero padding.
  const end = withoutZeroTail(b);
  if (end >= 2 && b[end - 2] === 0xff && b[end - 1] === 0xd9) {return { problem: null, width, height };}
  // Otherwise walk the entropy-coded data for EOI: data may legitimately follow it (maker notes, appended files).
  for (let j = i; ;) {
    const k = b.indexOf(0xff, j);
    if (k < 0 || k + 1 >= b.length) {return { problem: 'body', detail: `${TRUNCATED} (no end-of-image marker)` };}
    const next = b[k + 1]!;
    if (next === 0xd9) {return { problem: null, width, height };}
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
      j = k + 1;
      continue;
    }
    // A marker segment between scans (DHT, DQT, DRI, SOS, …) in progressive and multi-scan files.
    if (k + 4 > b.length) {return { problem: 'body', detail: `${TRUNCATED} (no end-of-image marker)` };}
    j = k + 2 + b.readUInt16BE(k + 2);
  }
}

const PNG_IEND = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/** PNG: IHDR first (the size), then the chunk chain must reach IEND. */
function pngHeader(b: Buffer): Header {
  if (b.length < 33) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the header)` };}
  if (b.readUInt32BE(8) !== 13 || b.toString('latin1', 12, 16) !== 'IHDR') {return { problem: 'header', detail: 'the first chunk is not IHDR' };}
  const width = b.readUInt32BE(16);
  const height = b.readUInt32BE(20);
  if (b.length >= 45 && b.compare(PNG_IEND, 0, 12, b.length - 12, b.length) === 0) {return { problem: null, width, height };}
  // Data after IEND is allowed (decoders ignore it): walk the chunks.
  let data = false;
  for (let i = 33; ;) {
    if (i + 8 > b.length) {return { problem: 'body', detail: `${TRUNCATED} (no IEND chunk)` };}
    const length = b.readUInt32BE(i);
    const type = b.toString('latin1', i + 4, i + 8);
    const next = i + 12 + length;
    if (next > b.length) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the ${type.replace(/[^\x20-\x7e]/g, '?')} chunk)` };}
    if (type === 'IDAT') {data = true;}
    if (type === 'IEND') {return data ? { problem: null, width, height } : { problem: 'body', detail: 'no image data (IDAT) before IEND' };}
    i = next;
  }
}

/** GIF: the logical screen size, then the block chain through the first image (to the trailer 0x3B when it has one). */
function gifHeader(b: Buffer): Header {
  if (b.length < 13) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the header)` };}
  const width = b.readUInt16LE(6);
  const height = b.readUInt16LE(8);
  const flags = b[10]!;
  let i = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  let images = 0;
  const subBlocks = (): boolean => {
    for (;;) {
      if (i >= b.length) {return false;}
      const n = b[i]!;
      i += 1 + n;
      if (n === 0) {return true;}
    }
  };
  for (;;) {
    if (i >= b.length) {
      // Only the first frame is used: later frames cut off do not matter.
      return images > 0 ? { problem: null, width, height } : { problem: 'body', detail: `${TRUNCATED} (no complete frame, no trailer)` };
    }
    const block = b[i]!;
    if (block === 0x3b) {
      return images > 0 ? { problem: null, width, height } : { problem: 'body', detail: 'no image in the file' };
    }
    if (block === 0x21) {
      i += 2;
      if (!subBlocks() && images === 0) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside an extension block)` };}
    } else if (block === 0x2c) {
      if (i + 10 > b.length) {return images > 0 ? { problem: null, width, height } : { problem: 'body', detail: `${TRUNCATED} (it stops inside the image descriptor)` };}
      const local = b[i + 9]!;
      i += 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1;
      if (!subBlocks()) {
        return images > 0 ? { problem: null, width, height } : { problem: 'body', detail: `${TRUNCATED} (it stops inside the first frame)` };
      }
      images++;
    } else if (block === 0) {
      // Stray padding between blocks: tolerated by decoders.
      i++;
    } else {
      return images > 0 ? { problem: null, width, height } : { problem: 'header', detail: `unknown block 0x${block.toString(16)} at byte ${i}` };
    }
  }
}

/** WebP: the RIFF size must fit the file, every chunk must fit the RIFF, and one of them must be image data. */
function webpHeader(b: Buffer): Header {
  if (b.length < 30) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the header)` };}
  const riffEnd = b.readUInt32LE(4) + 8;
  if (riffEnd > b.length) {return { problem: 'body', detail: `${TRUNCATED} (the RIFF header says ${riffEnd} bytes, the file has ${b.length})` };}
  let width = 0;
  let height = 0;
  let image = false;
  for (let i = 12; i + 8 <= riffEnd; ) {
    const type = b.toString('latin1', i, i + 4);
    const size = b.readUInt32LE(i + 4);
    const data = i + 8;
    if (data + size > riffEnd) {return { problem: 'body', detail: `${TRUNCATED} (it stops inside the ${type.replace(/[^\x20-\x7e]/g, '?')} chunk)` };}
    if (i === 12) {
      if (type === 'VP8 ') {
        if (size < 10 || b[data + 3] !== 0x9d || b[data + 4] !== 0x01 || b[data + 5] !== 0x2a) {return { problem: 'header', detail: 'bad VP8 frame header' };}
        width = b.readUInt16LE(data + 6) & 0x3fff;
        height = b.readUInt16LE(data + 8) & 0x3fff;
      } else if (type === 'VP8L') {
        if (size < 5 || b[data] !== 0x2f) {return { problem: 'header', detail: 'bad VP8L header' };}
        const bits = b.readUInt32LE(data + 1);
        width = (bits & 0x3fff) + 1;
        height = ((bits >>> 14) & 0x3fff) + 1;
      } else if (type === 'VP8X') {
        if (size < 10) {return { problem: 'header', detail: 'bad VP8X header' };}
        width = b.readUIntLE(data + 4, 3) + 1;
        height = b.readUIntLE(data + 7, 3) + 1;
      } else {
        return { problem: 'header', detail: `unknown first chunk ${type.replace(/[^\x20-\x7e]/g, '?')}` };
      }
    }
    if (type === 'VP8 ' || type === 'VP8L' || type === 'ANMF') {image = true;}
    i = data + size + (size & 1);
  }
  return image ? { problem: null, width, height } : { problem: 'body', detail: 'no image data chunk' };
}
