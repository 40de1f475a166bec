import { randomBytes } from 'node:crypto';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { decodeSquare, UndecodableImageError } from './decode.js';
import { encodeTrailer, PACK_VERSION, recordBytes, type PackError, type PackHeader } from './pack-format.js';

/** One image to pack. */
export interface PackItem {
  id: number;
  path: string;
  label: number;
}

/** Progress of a packing job. */
export interface PackProgress {
  done: number;
  total: number;
  failed: number;
}

/** Options of packImages. */
export interface PackImagesOptions {
  items: PackItem[];
  packSize: number;
  outFile: string;
  onProgress?: (progress: PackProgress) => void;
  signal?: AbortSignal;
  /** Parallel decodes; defaults to the number of cores. */
  concurrency?: number;
  /** Stored verbatim in the header (must be JSON-serialisable). */
  meta?: unknown;
}

/** What packImages wrote. */
export interface PackResult {
  file: string;
  packSize: number;
  count: number;
  /** Every item left out, with the reason (also stored in the pack's header). */
  errors: PackError[];
  /** Of the errors, the images whose bytes were read but do not decode: broken files, for the library to record. */
  undecodable: PackError[];
  bytes: number;
}

/** Pack side for a network input size: input × 8/7 (the paper's 256 for 224) to the nearest multiple of 4, e.g. 36 for 32. */
export function packSizeFor(inputSize: number): number {
  if (!Number.isInteger(inputSize) || inputSize <= 0) {
    throw new Error(`input size must be a positive integer, got ${inputSize}`);
  }
  return Math.max(inputSize, 4 * Math.round((inputSize * 8) / 7 / 4));
}

type Decoded = { ok: true; data: Buffer } | { ok: false; message: string; undecodable: boolean };

/** Decodes, resizes and centre-crops every item into one packed cache file, written atomically. */
export async function packImages(options: PackImagesOptions): Promise<PackResult> {
  const { items, packSize, outFile, onProgress, signal } = options;
  if (!Number.isInteger(packSize) || packSize <= 0) {
    throw new Error(`packSize must be a positive integer, got ${packSize}`);
  }
  if (new Set(items.map((item) => item.id)).size !== items.length) {
    throw new Error('packImages: item ids must be unique');
  }
  signal?.throwIfAborted();
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  // Decoded records wait here until every earlier item is written, so output order is input order.
  const window = concurrency * 4;
  const bytesPerRecord = recordBytes(packSize);

  await mkdir(dirname(outFile), { recursive: true });
  const tempFile = `${outFile}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  const handle = await open(tempFile, 'w');
  const ids: number[] = [];
  const labels: number[] = [];
  const errors: PackError[] = [];
  const undecodable: PackError[] = [];
  const ready = new Map<number, Decoded>();
  let nextLaunch = 0;
  let nextWrite = 0;
  let flushing = false;
  let failure: unknown = null;
  let wake: Array<() => void> = [];

  const wakeAll = (): void => {
    const waiting = wake;
    wake = [];
    waiting.forEach((resolve) => resolve());
  };

  const flush = async (): Promise<void> => {
    if (flushing) {
      return;
    }
    flushing = true;
    try {
      for (let result = ready.get(nextWrite); result; result = ready.get(nextWrite)) {
        ready.delete(nextWrite);
        const item = items[nextWrite]!;
        if (result.ok) {
          await handle.write(result.data, 0, bytesPerRecord);
          ids.push(item.id);
          labels.push(item.label);
        } else {
          errors.push({ id: item.id, path: item.path, message: result.message });
          if (result.undecodable) {undecodable.push({ id: item.id, path: item.path, message: result.message });}
        }
        nextWrite++;
        onProgress?.({ done: nextWrite, total: items.length, failed: errors.length });
        wakeAll();
      }
    } finally {
      flushing = false;
    }
  };

  const lane = async (): Promise<void> => {
    while (failure === null && !signal?.aborted && nextLaunch < items.length) {
      if (nextLaunch >= nextWrite + window) {
        await new Promise<void>((resolve) => wake.push(resolve));
        continue;
      }
      const index = nextLaunch++;
      const item = items[index]!;
      let result: Decoded;
      try {
        const data = await decodeSquare(item.path, packSize);
        result = { ok: true, data };
      } catch (err) {
        result = { ok: false, message: err instanceof Error ? err.message : String(err), undecodable: err instanceof UndecodableImageError };
      }
      ready.set(index, result);
      try {
        await flush();
      } catch (err) {
        failure ??= err;
        wakeAll();
      }
    }
    wakeAll();
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, items.length)) }, lane));
    if (failure !== null) {
      throw failure;
    }
    signal?.throwIfAborted();
    await flush();
    const header: PackHeader = {
      format: 'convnet-pack',
      version: PACK_VERSION,
      packSize,
      channels: 3,
      background: 'black',
      count: ids.length,
      ids,
      labels,
      errors,
      meta: options.meta ?? null,
    };
    const trailer = encodeTrailer(header);
    await handle.write(trailer);
    await handle.sync();
    await handle.close();
    await rename(tempFile, outFile);
    return { file: outFile, packSize, count: ids.length, errors, undecodable, bytes: ids.length * bytesPerRecord + trailer.length };
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(tempFile).catch(() => undefined);
    throw err;
  }
}
