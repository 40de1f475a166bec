// Imports running now and the summaries of those that ended, fed live by import.progress / import.finished.
import { call, on } from '../api';
import { errorMessage, type ImportFinished, type ImportProgress, type SkippedFile } from './types';

/** One running import as the UI shows it. */
export interface RunningImport {
  jobId: string;
  paths: string[];
  startedAt: number;
  progress: ImportProgress;
  cancelling: boolean;
}

/** How one import ended: counts, the dataset it made, and every skipped file with its reason. */
export interface ImportSummary {
  jobId: string;
  paths: string[];
  datasetId: number | null;
  datasetName: string | null;
  outcome: 'done' | 'cancelled' | 'failed';
  message: string | null;
  images: number;
  classes: number;
  seconds: number;
  skipped: SkippedFile[];
}

function emptyProgress(jobId: string): ImportProgress {
  return {
    jobId,
    datasetId: null,
    phase: 'scanning',
    seen: 0,
    total: null,
    indexed: 0,
    skipped: 0,
    duplicates: 0,
    hashed: 0,
    ratePerSecond: 0,
    etaSeconds: null,
    currentPath: null,
  };
}

/** Tracks imports for the Library view; a reloaded page reattaches through `datasets.importJobs`. */
export class ImportTracker {
  running = $state<RunningImport[]>([]);
  summaries = $state<ImportSummary[]>([]);
  error = $state<string | null>(null);
  /** True while a `datasets.import` request is on its way. */
  starting = $state(false);
  #stop: (() => void)[] = [];

  /** Subscribes to import events and picks up imports already running. */
  start(): () => void {
    if (this.#stop.length === 0) {
      this.#stop.push(on('import.progress', (p) => this.#onProgress(p)));
      this.#stop.push(on('import.finished', (f) => this.#onFinished(f)));
      void this.reattach();
    }
    return () => {
      for (const stop of this.#stop) {
        stop();
      }
      this.#stop = [];
    };
  }

  /** Adopts every import the engine is running (after a reload, or one started elsewhere). */
  async reattach(): Promise<void> {
    try {
      const jobs = await call('datasets.importJobs');
      for (const job of jobs) {
        this.#upsert(job.jobId, job.paths, job.startedAt, job.progress);
      }
    } catch (err) {
      this.error = errorMessage(err);
    }
  }

  /** Starts importing `paths` (into a dataset called `name`, else named after the folder); progress then arrives as events. */
  async begin(paths: string[], name?: string): Promise<void> {
    this.error = null;
    this.starting = true;
    try {
      const { jobId } = await call('datasets.import', name ? { paths, name } : { paths });
      this.#upsert(jobId, paths, Date.now(), null);
      // A tiny import can finish before its reply arrives; give its summary the paths.
      const early = this.summaries.find((s) => s.jobId === jobId);
      if (early && early.paths.length === 0) {
        early.paths = paths;
      }
    } catch (err) {
      this.error = errorMessage(err);
    } finally {
      this.starting = false;
    }
  }

  /** Asks the engine to stop an import; what was indexed stays. */
  async cancel(jobId: string): Promise<void> {
    const job = this.running.find((j) => j.jobId === jobId);
    if (job) {
      job.cancelling = true;
    }
    try {
      await call('datasets.cancelImport', { jobId });
    } catch (err) {
      this.error = errorMessage(err);
      if (job) {
        job.cancelling = false;
      }
    }
  }

  /** Hides one summary. */
  dismiss(jobId: string): void {
    this.summaries = this.summaries.filter((s) => s.jobId !== jobId);
  }

  /** True while any import runs. */
  get busy(): boolean {
    return this.running.length > 0;
  }

  #upsert(jobId: string, paths: string[], startedAt: number, progress: ImportProgress | null): void {
    const job = this.running.find((j) => j.jobId === jobId);
    if (job) {
      if (progress) {
        job.progress = progress;
      }
      if (paths.length > 0) {
        job.paths = paths;
      }
    } else if (!this.summaries.some((s) => s.jobId === jobId)) {
      this.running.push({ jobId, paths, startedAt, progress: progress ?? emptyProgress(jobId), cancelling: false });
    }
  }

  #onProgress(progress: ImportProgress): void {
    this.#upsert(progress.jobId, [], Date.now(), progress);
  }

  #onFinished(finished: ImportFinished): void {
    const job = this.running.find((j) => j.jobId === finished.jobId);
    this.running = this.running.filter((j) => j.jobId !== finished.jobId);
    const result = finished.result;
    const cancelled = finished.error?.code === 'cancelled';
    const summary: ImportSummary = {
      jobId: finished.jobId,
      paths: job?.paths ?? [],
      datasetId: result?.dataset.id ?? finished.datasetId,
      datasetName: result?.dataset.name ?? null,
      outcome: result ? 'done' : cancelled ? 'cancelled' : 'failed',
      message: finished.error?.message ?? null,
      images: result?.dataset.images ?? job?.progress.indexed ?? 0,
      classes: result?.dataset.classes.length ?? 0,
      seconds: job ? (Date.now() - job.startedAt) / 1000 : 0,
      skipped: result?.skipped ?? finished.error?.skipped ?? [],
    };
    // A finished re-import makes an older summary of the same sources (say, a cancelled run) stale.
    const samePaths = (s: ImportSummary): boolean => summary.paths.length > 0 && s.paths.join('\n') === summary.paths.join('\n');
    const older = this.summaries.filter((s) => s.jobId !== finished.jobId && !(summary.outcome === 'done' && samePaths(s)));
    this.summaries = [summary, ...older].slice(0, 5);
  }
}

/** The one import tracker of the app. */
export const imports = new ImportTracker();
