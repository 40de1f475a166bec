import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { decodeFooter, PACK_FOOTER_BYTES, parseHeader, recordBytes, type PackHeader } from './pack-format.js';

/** Packs up to this size are read into memory whole when preload is 'auto'. */
const AUTO_PRELOAD_BYTES = 256 * 1024 * 1024;

/** Options of openPack. */
export interface OpenPackOptions {
  /** Read all records into one Buffer (true), read each on demand from the file (false), or decide by size ('auto', default). */
  preload?: boolean | 'auto';
}

/** Random access to the records of a packed cache file. */
export interface Pack {
  readonly file: string;
  readonly header: PackHeader;
  readonly packSize: number;
  readonly count: number;
  /** Bytes per record: packSize × packSize × 3. */
  readonly recordBytes: number;
  /** Image id of each record. */
  readonly ids: Int32Array;
  /** Label of each record. */
  readonly labels: Int32Array;
  /** Record index of an image id, or -1 if it is not in the pack. */
  indexOf(id: number): number;
  /** The uint8 HWC RGB pixels of record `index`, copied into `target` at `offset` when given (otherwise a view or a fresh array). */
  read(index: number, target?: Uint8Array, offset?: number): Uint8Array;
  /** Releases the file descriptor and memory. */
  close(): void;
}

/** Reads a pack's header only (cheap: the footer and the JSON). */
export function readPackHeader(file: string): PackHeader {
  const fd = openSync(file, 'r');
  try {
    return readHeaderFromFd(fd).header;
  } finally {
    closeSync(fd);
  }
}

function readHeaderFromFd(fd: number): { header: PackHeader; dataBytes: number } {
  const size = fstatSync(fd).size;
  if (size < PACK_FOOTER_BYTES) {
    throw new Error('not a ConvNet Studio pack (too short)');
  }
  const footer = Buffer.alloc(PACK_FOOTER_BYTES);
  readFully(fd, footer, size - PACK_FOOTER_BYTES);
  const { headerBytes } = decodeFooter(footer, size);
  const json = Buffer.alloc(headerBytes);
  readFully(fd, json, size - PACK_FOOTER_BYTES - headerBytes);
  const header = parseHeader(json, size);
  return { header, dataBytes: header.count * recordBytes(header.packSize) };
}

function readFully(fd: number, target: Uint8Array, position: number, offset = 0, length = target.length - offset): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, target, offset + done, length - done, position + done);
    if (n === 0) {
      throw new Error('unexpected end of pack file');
    }
    done += n;
  }
}

/** Opens a packed cache file for random access to its records (synchronous: meant for workers and tools). */
export function openPack(file: string, options: OpenPackOptions = {}): Pack {
  const fd = openSync(file, 'r');
  let header: PackHeader;
  let dataBytes: number;
  try {
    ({ header, dataBytes } = readHeaderFromFd(fd));
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const preload = options.preload ?? 'auto';
  let data: Buffer | null = null;
  let openFd: number | null = fd;
  if (preload === true || (preload === 'auto' && dataBytes <= AUTO_PRELOAD_BYTES)) {
    data = readFileSync(fd).subarray(0, dataBytes);
    closeSync(fd);
    openFd = null;
  }
  const bytes = recordBytes(header.packSize);
  const ids = Int32Array.from(header.ids);
  const labels = Int32Array.from(header.labels);
  const indexById = new Map<number, number>();
  ids.forEach((id, index) => indexById.set(id, index));

  return {
    file,
    header,
    packSize: header.packSize,
    count: header.count,
    recordBytes: bytes,
    ids,
    labels,
    indexOf: (id) => indexById.get(id) ?? -1,
    read(index, target, offset = 0) {
      if (!Number.isInteger(index) || index < 0 || index >= header.count) {
        throw new RangeError(`record ${index} out of range 0..${header.count - 1}`);
      }
      if (data) {
        const view = data.subarray(index * bytes, (index + 1) * bytes);
        if (!target) {
          return view;
        }
        target.set(view, offset);
        return target;
      }
      if (openFd === null) {
        throw new Error('pack is closed');
      }
      const out = target ?? new Uint8Array(bytes);
      readFully(openFd, out, index * bytes, target ? offset : 0, bytes);
      return out;
    },
    close() {
      if (openFd !== null) {
        closeSync(openFd);
        openFd = null;
      }
      data = null;
    },
  };
}
