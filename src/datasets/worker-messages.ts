import type { ImportFinished, ImportProgress, ImportRequest } from '../api/datasets.js';

/** What the main thread hands an import worker. */
export interface ImportWorkerData {
  jobId: string;
  /** The library folder (the worker opens its database with openLibraryDb). */
  libraryDir: string;
  nativeBinding?: string;
  request: ImportRequest;
  /** One Int32: set to 1 to cancel (read with Atomics, so a busy worker sees it without a message turn). */
  cancelFlag: SharedArrayBuffer;
}

/** What an import worker posts back. */
export type WorkerMessage =
  | { type: 'progress'; progress: ImportProgress }
  | { type: 'finished'; finished: ImportFinished }
  | { type: 'failed'; message: string };
