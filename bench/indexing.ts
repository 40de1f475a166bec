import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImportProgress } from '../src/api/datasets.js';
import { EventBus } from '../src/api/events-bus.js';
import { openLibrary } from '../src/library/open.js';
import { ImportJobs } from '../src/datasets/import-jobs.js';
import { sha256Hex } from '../src/datasets/image-probe.js';
import { scanSources } from '../src/datasets/scan.js';

/** Indexing speed against the raw limit of the same disk and CPU. */
export interface IndexingMeasurement {
  files: number;
  seconds: number;
  filesPerSecond: number;
  /** Read + SHA-256 of the same files with no decoding: what indexing could at best reach. */
  rawReadHashFilesPerSecond: number;
  /**
   * Files/s of the indexing phase alone (from its first progress event to the splitting phase's): the import
   * without its fixed costs (worker start-up, scan, splits, result), i.e. its rate on a large import.
   */
  indexingPhaseFilesPerSecond: number;
}

/**
 * Imports `dir` into a throw-away library through the real worker path (worker start-up, scan, read, hash, header
 * checks, SQLite, splits: what a user waits for), then times read+hash alone over the same files, after one warm-up pass.
 */
export async function measureIndexing(dir: string): Promise<IndexingMeasurement> {
  const libraryDir = mkdtempSync(path.join(os.tmpdir(), 'convnet-bench-'));
  const library = openLibrary(libraryDir);
  try {
    const events = new EventBus();
    const phaseStart: Partial<Record<ImportProgress['phase'], number>> = {};
    events.on('import.progress', (p) => void (phaseStart[p.phase] ??= performance.now()));
    const jobs = new ImportJobs(library.dir, events);
    const start = performance.now();
    const { done } = jobs.start({ paths: [path.resolve(dir)] });
    const finished = await done;
    const seconds = (performance.now() - start) / 1000;
    if (!finished.result) {throw new Error(finished.error?.message ?? 'import failed');}
    const files = finished.result.dataset.images + finished.result.skipped.length;

    const { candidates } = await scanSources([path.resolve(dir)], { onFound: () => undefined, cancelled: () => false });
    const readAndHash = async (): Promise<number> => {
      const rawStart = performance.now();
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < candidates.length) {
          sha256Hex(await readFile(candidates[next++]!.path));
        }
      };
      await Promise.all(Array.from({ length: 4 }, lane));
      return (performance.now() - rawStart) / 1000;
    };
    // One untimed pass first: the first pass in a process is slower (JIT, fs/promises set-up), which would flatter us.
    await readAndHash();
    const rawSeconds = await readAndHash();
    const phaseSeconds = ((phaseStart.splitting ?? performance.now()) - (phaseStart.indexing ?? start)) / 1000;
    return {
      files,
      seconds,
      filesPerSecond: files / seconds,
      rawReadHashFilesPerSecond: candidates.length / rawSeconds,
      indexingPhaseFilesPerSecond: candidates.length / phaseSeconds,
    };
  } finally {
    library.close();
    rmSync(libraryDir, { recursive: true, force: true });
  }
}
