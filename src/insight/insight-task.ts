// Runs one insight job (a suspects scan, a learning-rate sweep) in its own worker thread with progress and
// a stop, so the host's main thread never trains.
import { ApiError } from '../api/errors.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import type { AugmentPreview, AugmentPreviewRequest } from './augment-preview.js';
import type { LrFindRequest, LrFindResult, LrFindProgress } from './lr-find.js';
import type { SuspectProgress, SuspectScanOptions } from './suspects.js';
import type { SuspectScan } from './suspects-store.js';

/** A job for the insight worker. */
export type InsightTask = ({ kind: 'suspects'; runId: number } & SuspectScanOptions) | ({ kind: 'lr-find' } & LrFindRequest) | ({ kind: 'augment-preview' } & AugmentPreviewRequest);

/** What the worker is started with. */
export interface InsightWorkerData {
  libraryDir: string;
  nativeBinding?: string;
  task: InsightTask;
}

/** Worker → host. */
export type FromInsightWorker =
  | { type: 'progress'; progress: SuspectProgress | LrFindProgress }
  | { type: 'done'; result: unknown }
  | { type: 'error'; message: string };

/** Host → worker: stop after the batch in hand (nothing is stored). */
export type ToInsightWorker = { type: 'stop' };

type ResultOf<T extends InsightTask> = T extends { kind: 'suspects' } ? SuspectScan | null : T extends { kind: 'lr-find' } ? LrFindResult | null : AugmentPreview;
type ProgressOf<T extends InsightTask> = T extends { kind: 'suspects' } ? SuspectProgress : LrFindProgress;

/** A started job: its result (null when stopped) and a stop. */
export interface InsightJob<T extends InsightTask> {
  done: Promise<ResultOf<T>>;
  stop(): void;
}

/** Starts one task in a fresh worker; a failure rejects `done` with a `conflict` ApiError carrying the worker's message. */
export function startInsightTask<T extends InsightTask>(libraryDir: string, task: T, onProgress: (p: ProgressOf<T>) => void, nativeBinding?: string): InsightJob<T> {
  const data: InsightWorkerData = { libraryDir, task, ...(nativeBinding ? { nativeBinding } : {}) };
  const worker = spawnWorker(siblingModule(import.meta.url, 'insight-worker'), { workerData: data });
  let stopped = false;
  const done = new Promise<ResultOf<T>>((resolve, reject) => {
    worker.on('message', (m: FromInsightWorker) => {
      if (m.type === 'progress') {
        onProgress(m.progress as ProgressOf<T>);
      } else if (m.type === 'done') {
        resolve(m.result as ResultOf<T>);
      } else {
        reject(new ApiError('conflict', m.message));
      }
    });
    worker.once('error', (err) => reject(new ApiError('conflict', `The insight worker crashed: ${err.message}`)));
    worker.once('exit', () => (stopped ? resolve(null as ResultOf<T>) : reject(new ApiError('conflict', 'The insight worker exited early.'))));
  }).finally(() => void worker.terminate());
  return {
    done,
    stop() {
      stopped = true;
      worker.postMessage({ type: 'stop' } satisfies ToInsightWorker);
    },
  };
}
