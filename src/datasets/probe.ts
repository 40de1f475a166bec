import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
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
function decoderMessage(err: unknown): string {
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

/**
 * Reads one file and decides whether it is an importable image: not empty, a known image container,
 * at most MAX_PIXELS by its header (checked before any decoding), and fully decodable (first frame).
 */
export async function probeImage(path: string, size: number): Promise<ProbedImage | ProbeFailure> {
  if (size === 0) {
    return { ok: false, kind: 'empty', reason: 'empty file (0 bytes)' };
  }
  if (size > MAX_FILE_BYTES) {
    return { ok: false, kind: 'too-large', reason: `file is ${(size / 1024 ** 3).toFixed(1)} GiB; files over 1 GiB are not imported` };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    return describeReadError(err);
  }
  return probeBytes(bytes);
}

/** probeImage on bytes already read. */
export async function probeBytes(bytes: Buffer): Promise<ProbedImage | ProbeFailure> {
  if (bytes.length === 0) {
    return { ok: false, kind: 'empty', reason: 'empty file (0 bytes)' };
  }
  const sha256 = sha256Hex(bytes);
  const head = bytes.subarray(0, 512);
  const container = sniffFormat(head);
  if (!container) {
    const what = looksLikeText(head) ? 'it contains text' : 'its contents match no supported format';
    return { ok: false, kind: 'not-image', reason: `not an image: ${what} (JPEG, PNG, WebP, GIF, TIFF, AVIF expected)`, sha256 };
  }
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
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width <= 0 || height <= 0) {
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
  try {
    // A small resize lets JPEG shrink-on-load skip most of the work while still reading every byte.
    await sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_PIXELS, pages: 1 })
      .resize(32, 32, { fit: 'inside' })
      .raw()
      .toBuffer();
  } catch (err) {
    return { ok: false, kind: 'corrupt', reason: `corrupt or truncated ${container.toUpperCase()}: ${decoderMessage(err)}`, sha256 };
  }
  const format = meta.format === 'heif' ? (meta.compression === 'av1' ? 'avif' : 'heif') : (meta.format ?? container);
  return { ok: true, sha256, width, height, format };
}
