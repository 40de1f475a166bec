// The Runs and Train views' types, straight from the engine's contract (src/api/runs.ts is the truth).
import type { EventPayload, Output } from '../../../../src/api/contract';
export type { EpochMetrics, RunDetail, RunStatus, RunSummary, TrainConfig, TrainConfigInput } from '../../../../src/api/runs';

/** Live progress of a run (`train.progress`). */
export type TrainProgress = EventPayload<'train.progress'>;
/** One finished epoch of a run (`train.epoch`). */
export type EpochEvent = EventPayload<'train.epoch'>;
/** The end of a run (`run.finished`). */
export type RunFinished = EventPayload<'run.finished'>;
/** What `runs.defaults` answers: the paper's config and the architectures. */
export type RunDefaults = Output<'runs.defaults'>;
/** One architecture offered for training. */
export type ArchInfo = RunDefaults['archs'][number];

/** Statuses in which a run is alive in the engine (a worker holds it). */
export const LIVE_STATUSES = ['queued', 'running', 'paused'] as const;

/** True while a run has a worker (queued, running or paused). */
export function isLive(status: string): boolean {
  return (LIVE_STATUSES as readonly string[]).includes(status);
}

/** True when `runs.resume` can continue the run from its checkpoint. */
export function isResumable(run: { status: string; epochsDone: number; epochs: number }): boolean {
  return run.status === 'stopped' || run.status === 'interrupted' || run.status === 'failed' || (run.status === 'completed' && run.epochsDone < run.epochs);
}
