import type { AssemblyConfig } from './batch-assembly.js';
import type { OpenPackOptions } from './open-pack.js';

/** What the batch worker starts from (its workerData). */
export interface WorkerInit {
  packFile: string;
  preload: OpenPackOptions['preload'];
  ids: Int32Array;
  labels: Int32Array | null;
  batchSize: number;
  batchesPerEpoch: number;
  config: AssemblyConfig;
  seed: number;
  epoch: number;
  startBatch: number;
  prefetch: number;
}

/** Loader → worker. */
export type ToWorker =
  | { type: 'credit'; n: number }
  | { type: 'seek'; seq: number; epoch: number; startBatch: number }
  | { type: 'close' };

/** Worker → loader. */
export type FromWorker =
  | { type: 'ready'; packSize: number }
  | {
      type: 'batch';
      seq: number;
      epoch: number;
      index: number;
      /** Normalised float32, or raw uint8 views when the loader's output is uint8. */
      x: Float32Array | Uint8Array;
      /** uint8 output with PCA lighting: one RGB shift per image. */
      shifts: Float32Array | null;
      shape: [number, number, number, number];
      labels: Int32Array;
      ids: Int32Array;
      views: number;
      busyMs: number;
    }
  | { type: 'error'; message: string };
