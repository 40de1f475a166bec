import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import sharp from 'sharp';

/** Image formats the factory writes (BMP only if this sharp build can write it — it cannot here, so it is hand-made as an unsupported file). */
export type FolderFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

/** The bad inputs the factory can add inside the first class folder. */
export type BadFile = 'empty' | 'truncated' | 'textAsJpeg' | 'bomb' | 'unreadable' | 'symlinkLoop' | 'dirLoop' | 'nonUtf8Name' | 'longName' | 'duplicate' | 'bmp';

/** What to generate: class → image count (or, with `splits`, class → counts per split folder). */
export interface ImageFolderSpec {
  classes: Record<string, number | { train: number; val: number; test: number }>;
  formats?: FolderFormat[];
  width?: number;
  height?: number;
  bad?: BadFile[];
  /** Seed of pixel content, so two folders can hold different images. */
  seed?: number;
}

/** What was written, and what an import should find. */
export interface ImageFolder {
  root: string;
  /** Good, distinct images per class (duplicates, bad files and the long name not included). */
  perClass: Record<string, number>;
  /** Path of each bad file written (the non-UTF-8 one as a Buffer). */
  bad: Partial<Record<BadFile, string | Buffer>>;
  /** True when the chmod-000 file can still be read (running as root). */
  unreadableIsReadable: boolean;
}

const EXT: Record<FolderFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tif', avif: 'avif' };

/** A small, distinct image: a smooth gradient whose slopes and offsets come from a PRNG seeded by `key`. */
export async function imageBytes(format: FolderFormat, key: number, width = 24, height = 20): Promise<Buffer> {
  let state = (key * 2654435761 + 1) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const params = Array.from({ length: 9 }, () => next());
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const [ax, ay, b] = [params[c * 3]! * 4, params[c * 3 + 1]! * 4, params[c * 3 + 2]! * 255];
        pixels[(y * width + x) * 3 + c] = Math.floor(ax * x + ay * y + b) & 255;
      }
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  return image.toFormat(format === 'avif' ? 'avif' : format, format === 'avif' ? { quality: 60, effort: 0 } : {}).toBuffer();
}

/** One PNG chunk: length, type, data and its CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A whole PNG file: signature, IHDR (8-bit, colour type `colorType`), one IDAT and IEND. */
export function pngFile(width: number, height: number, colorType: 0 | 2, idat: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colorType; // 0 greyscale, 2 RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', idat), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A PNG whose header claims width×height of one grey solid colour: tiny on disk, huge decoded. */
export function decompressionBomb(width = 12_000, height = 12_000): Buffer {
  // Every row: filter byte 0 then zero pixels — a complete, valid image that deflates ~1000:1.
  return pngFile(width, height, 0, zlib.deflateSync(Buffer.alloc((width + 1) * height), { level: 6 }));
}

/** A 32×32 RGB PNG whose header, chunk CRCs and IEND are right but whose IDAT is not deflate data: only decoding finds it broken. */
export function garbageBodyPng(): Buffer {
  return pngFile(32, 32, 2, Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 73 + 41) % 251)));
}

/** A valid 2×2 24-bit BMP (written by hand: sharp cannot write BMP). */
export function bmpBytes(): Buffer {
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'ascii');
  header.writeUInt32LE(54 + 16, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(16, 34);
  return Buffer.concat([header, Buffer.alloc(16, 0x80)]);
}

/** Writes a folder of real images (class-per-folder, or train/val/test when counts are per split) plus the requested bad files. */
export async function makeImageFolder(dir: string, spec: ImageFolderSpec): Promise<ImageFolder> {
  const formats = spec.formats ?? ['jpeg', 'png', 'webp', 'gif', 'tiff'];
  const perClass: Record<string, number> = {};
  let key = (spec.seed ?? 0) * 100_000;
  let first: { dir: string; file: string } | null = null;
  for (const [className, counts] of Object.entries(spec.classes)) {
    const places: Array<[string, number]> =
      typeof counts === 'number' ? [[path.join(dir, className), counts]] : Object.entries(counts).map(([split, n]) => [path.join(dir, split, className), n]);
    perClass[className] = 0;
    for (const [folder, n] of places) {
      fs.mkdirSync(folder, { recursive: true });
      for (let i = 0; i < n; i++) {
        const format = formats[key % formats.length]!;
        // Every third image one level deeper: classes may nest to any depth.
        const sub = i % 3 === 2 ? path.join(folder, 'more') : folder;
        fs.mkdirSync(sub, { recursive: true });
        const file = path.join(sub, `img-${String(i).padStart(4, '0')}.${EXT[format]}`);
        fs.writeFileSync(file, await imageBytes(format, key++, spec.width, spec.height));
        first ??= { dir: folder, file };
        perClass[className]++;
      }
    }
  }
  const bad: ImageFolder['bad'] = {};
  let unreadableIsReadable = false;
  if (first && spec.bad?.length) {
    const at = (name: string): string => path.join(first!.dir, name);
    for (const kind of spec.bad) {
      switch (kind) {
        case 'empty':
          fs.writeFileSync((bad.empty = at('empty.jpg')), '');
          break;
        case 'truncated': {
          const bytes = await imageBytes('jpeg', 999_001, 64, 64);
          fs.writeFileSync((bad.truncated = at('truncated.jpg')), bytes.subarray(0, Math.floor(bytes.length / 2)));
          break;
        }
        case 'textAsJpeg':
          fs.writeFileSync((bad.textAsJpeg = at('notes.jpg')), 'These are my notes, not a photo.\n');
          break;
        case 'bomb':
          fs.writeFileSync((bad.bomb = at('bomb.png')), decompressionBomb());
          break;
        case 'unreadable': {
          bad.unreadable = at('locked.png');
          fs.writeFileSync(bad.unreadable, await imageBytes('png', 999_002));
          fs.chmodSync(bad.unreadable, 0o000);
          try {
            fs.readFileSync(bad.unreadable);
            unreadableIsReadable = true;
          } catch {
            unreadableIsReadable = false;
          }
          break;
        }
        case 'symlinkLoop':
          fs.symlinkSync('self-loop.jpg', (bad.symlinkLoop = at('self-loop.jpg')));
          break;
        case 'dirLoop':
          fs.symlinkSync('..', (bad.dirLoop = at('up')));
          break;
        case 'nonUtf8Name': {
          const name = Buffer.concat([Buffer.from(first.dir + path.sep), Buffer.from([0x66, 0xff, 0xfe, 0x6f]), Buffer.from('.jpg')]);
          fs.writeFileSync(name, await imageBytes('jpeg', 999_003));
          bad.nonUtf8Name = name;
          break;
        }
        case 'longName':
          fs.writeFileSync((bad.longName = at(`${'long'.repeat(61)}-x.png`)), await imageBytes('png', 999_004));
          break;
        case 'duplicate':
          fs.copyFileSync(first.file, (bad.duplicate = at('zz-copy-of-first.' + path.extname(first.file).slice(1))));
          break;
        case 'bmp':
          fs.writeFileSync((bad.bmp = at('old.bmp')), bmpBytes());
          break;
      }
    }
  }
  return { root: dir, perClass, bad, unreadableIsReadable };
}

/** SHA-256 over every path, mode, size and content under dir (links by target, not followed): proves a tree is byte-identical. */
export function hashTree(dir: string): string {
  const hash = createHash('sha256');
  const visit = (d: Buffer): void => {
    const names = fs.readdirSync(d, { encoding: 'buffer' }).sort(Buffer.compare);
    for (const name of names) {
      const full = Buffer.concat([d, Buffer.from(path.sep), name]);
      const st = fs.lstatSync(full);
      hash.update(full).update(`:${st.mode}:${st.size}:${st.mtimeMs}:`);
      if (st.isSymbolicLink()) {hash.update(fs.readlinkSync(full, { encoding: 'buffer' }));}
      else if (st.isDirectory()) {visit(full);}
      else if (st.mode & 0o400 || process.getuid?.() === 0) {hash.update(fs.readFileSync(full));}
    }
  };
  visit(Buffer.from(dir));
  return hash.digest('hex');
}
