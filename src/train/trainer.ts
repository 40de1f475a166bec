// The seam between a run's session (run-session.ts: the row, heartbeat, data, recording, finish) and what
// trains the network: the tfjs loop in this worker (tfjs-trainer.ts) or a compute window over the
// protocol (window-trainer.ts). A trainer never touches SQLite; it reports through its TrainJob.
import type { EpochMetrics, TrainConfig } from '../api/runs.js';
import type { Batch, RawBatch } from '../images/batch-source.js';
import type { ColorStats } from '../images/color-stats.js';
import type { CheckpointMeta, LoadedCheckpoint } from '../runs/checkpoint.js';
import type { LoopPosition, LoopProgress } from './loop.js';
import type { RunData } from './run-data.js';

/** Pause/stop requests from the main thread, read between batches. */
export interface RunControl {
  paused: boolean;
  stopRequested: boolean;
  /** Resolves when the run is resumed or stopped. */
  waitWhilePaused(): Promise<void>;
}

/** The backend a trainer trains on, as recorded with the run. */
export interface TrainerBackend {
  name: string;
  device: string | null;
  threads: number | null;
  /** The run log's line that says which backend and why. */
  description: string;
}

/** What the data preparation does for a trainer beyond the defaults. */
export interface TrainerDataNeeds {
  /** Adjusts freshly computed colour statistics (a fine-tuned run normalises with its parent's). */
  adjustStats?: ((stats: ColorStats) => ColorStats) | undefined;
}

/** Batches as a trainer takes them: normalised float32 (a Node trainer) or raw uint8 views (a compute window normalises them). */
export type TrainerOutput = 'float32' | 'uint8';
export type BatchOf<O extends TrainerOutput> = O extends 'uint8' ? RawBatch : Batch;

/** One training session of a run, as the session hands it to a trainer. */
export interface TrainJob<O extends TrainerOutput> {
  runId: number;
  runDir: string;
  config: TrainConfig;
  /** The checkpoint this session resumes from, or null for a fresh network. */
  checkpoint: LoadedCheckpoint | null;
  start: LoopPosition;
  data: RunData<BatchOf<O>>;
  /** What each of this run's checkpoints carries besides weights, optimizer state and position. */
  meta: Omit<CheckpointMeta, 'optimizer' | 'version' | 'savedAt' | 'position'>;
  control: RunControl;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Progress before training starts (feature extraction of the fast head). */
  prepare(message: string, done?: number, total?: number): void;
  progress(p: LoopProgress): void;
  /** Records an epoch's metrics, or a stop's position (null), once it is safe on disk (or needs no checkpoint). */
  record(metrics: EpochMetrics | null, position: LoopPosition): void;
  /** Between batches: waits while the run is paused (recording paused/running); says whether to stop. */
  checkControl(): Promise<'continue' | 'stop'>;
  /** The trainer paused or resumed on its own side (a compute window reports it). */
  statusChanged(status: 'running' | 'paused'): void;
}

/** How a training session ended, and where the run stands. */
export interface TrainResult {
  outcome: 'completed' | 'stopped' | 'time-limit';
  position: LoopPosition;
}

/** What trains a run's network for the session. */
export interface Trainer<O extends TrainerOutput = TrainerOutput> {
  readonly output: O;
  /** Where it trains, for the log ("in the compute window"); null: here. */
  readonly place: string | null;
  /** Activates the backend (or opens the window's); says what to record with the run. */
  open(config: TrainConfig): Promise<TrainerBackend>;
  /** Loads what the trainer needs before the data is prepared (a fine-tuned run's parent). */
  prepare(config: TrainConfig, checkpoint: LoadedCheckpoint | null): Promise<TrainerDataNeeds>;
  /** Trains until the run completes, stops or reaches its time limit; checkpoints through `job`. */
  train(job: TrainJob<O>): Promise<TrainResult>;
  /** Frees what the trainer holds, whatever happened. */
  close(): Promise<void>;
}

/**
 * A session ended because its trainer went away (the compute window or its GPU was lost), not because
 * training failed: the run ends `interrupted` and resumes from its last checkpoint, on any backend.
 */
export class TrainerLost extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainerLost';
  }
}
