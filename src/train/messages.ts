import type { BackendName } from '../api/app.js';
import type { EpochMetrics, RunStatus, TrainProgress } from '../api/runs.js';

/** What a run worker is started with. */
export interface RunWorkerData {
  libraryDir: string;
  runId: number;
  /** Continue from the run's checkpoint (or restart it if it has none). */
  resume: boolean;
  nativeBinding?: string;
  /** The backend `auto` resolved to in the main thread (measured probe); absent: the worker chooses from the config. */
  backend?: BackendName;
}

/** Main → worker. */
export type ToRunWorker = { type: 'control'; action: 'pause' | 'resume' | 'stop' };

/** Worker → main. */
export type FromRunWorker =
  | ({ type: 'progress' } & Omit<TrainProgress, 'runId'>)
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'status'; status: RunStatus }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'finished'; status: RunStatus; error: string | null; bestValTop1Error: number | null; bestValTop5Error: number | null };
