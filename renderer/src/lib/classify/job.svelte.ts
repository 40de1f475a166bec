// One classification job as the view follows it: results and bad files as their events arrive, progress,
// the engine's timing, cancel, and exporting the results.
import { call, on } from '../api';
import { errorMessage } from '../library/types';
import { downloadText } from './host';
import type { ClassifiedImage, ClassifierSource, ClassifyError, ClassifyJob, ClassifyTiming, ResultsFormat } from './types';

type JobEvent =
  | { type: 'result'; items: ClassifiedImage[]; errors: ClassifyError[] }
  | { type: 'progress'; done: number; total: number; failed: number }
  | { type: 'finished'; job: ClassifyJob };

/** Where a job stands in the view. */
export type JobPhase = 'idle' | 'starting' | 'running' | 'completed' | 'cancelled' | 'failed';

/** The current classification job of the Classify view. */
export class ClassifyRun {
  phase = $state<JobPhase>('idle');
  jobId = $state<string | null>(null);
  total = $state(0);
  done = $state(0);
  failed = $state(0);
  tenCrop = $state(false);
  /** Which run or model classifies, in words. */
  modelLabel = $state('');
  results = $state.raw<ClassifiedImage[]>([]);
  errors = $state.raw<ClassifyError[]>([]);
  timing = $state<ClassifyTiming | null>(null);
  backend = $state<string | null>(null);
  /** Why the job could not start or failed. */
  error = $state<string | null>(null);
  exporting = $state(false);
  exportError = $state<string | null>(null);
  /** blob: previews of dropped image files, by path (Electron drops only). */
  previews = $state.raw(new Map<string, string>());
  // Events can outrun the reply that names the job (the engine reports bad paths at once): keep them until then.
  #early = new Map<string, JobEvent[]>();

  /** True while the engine works on the job. */
  readonly busy = $derived(this.phase === 'starting' || this.phase === 'running');
  /** Share of files handled, 0–1. */
  readonly fraction = $derived(this.total > 0 ? this.done / this.total : 0);

  /** Follows classify events; returns the unsubscribe. */
  listen(): () => void {
    const stops = [
      on('classify.result', (e) => this.#receive(e.jobId, { type: 'result', items: e.items, errors: e.errors })),
      on('classify.progress', (e) => this.#receive(e.jobId, { type: 'progress', done: e.done, total: e.total, failed: e.failed })),
      on('classify.finished', (job) => this.#receive(job.jobId, { type: 'finished', job })),
    ];
    return () => stops.forEach((stop) => stop());
  }

  /** Starts classifying files and folders (absolute paths on the engine's machine). */
  async start(source: ClassifierSource, paths: string[], tenCrop: boolean, modelLabel: string, previews = new Map<string, string>()): Promise<void> {
    this.#reset();
    this.modelLabel = modelLabel;
    this.previews = previews;
    this.tenCrop = tenCrop;
    this.phase = 'starting';
    try {
      const { jobId, total } = await call('classify.files', { source, paths, topK: 5, tenCrop });
      this.jobId = jobId;
      this.total = total;
      this.phase = 'running';
      const early = this.#early.get(jobId) ?? [];
      this.#early.clear();
      early.forEach((e) => this.#apply(e));
    } catch (err) {
      this.phase = 'failed';
      this.error = errorMessage(err);
    }
  }

  /** Stops the job after its current batch; results so far stay. */
  async cancel(): Promise<void> {
    if (this.jobId && this.phase === 'running') {
      try {
        this.#apply({ type: 'finished', job: await call('classify.cancel', { jobId: this.jobId }) });
      } catch (err) {
        this.error = errorMessage(err);
      }
    }
  }

  /** Saves the finished job's results as CSV or JSON through a download. */
  async exportResults(format: ResultsFormat): Promise<void> {
    if (!this.jobId) {
      return;
    }
    this.exporting = true;
    this.exportError = null;
    try {
      const out = await call('classify.exportResults', { jobId: this.jobId, format });
      downloadText(out.text ?? '', `classification.${format}`, format === 'csv' ? 'text/csv' : 'application/json');
    } catch (err) {
      this.exportError = errorMessage(err);
    } finally {
      this.exporting = false;
    }
  }

  /** Forgets the job (and its previews). */
  clear(): void {
    this.#reset();
  }

  #reset(): void {
    for (const url of this.previews.values()) {
      URL.revokeObjectURL(url);
    }
    this.previews = new Map();
    this.phase = 'idle';
    this.jobId = null;
    this.total = this.done = this.failed = 0;
    this.results = [];
    this.errors = [];
    this.timing = null;
    this.backend = null;
    this.error = null;
    this.exportError = null;
  }

  #receive(jobId: string, event: JobEvent): void {
    if (jobId === this.jobId) {
      this.#apply(event);
    } else if (this.phase === 'starting') {
      this.#early.set(jobId, [...(this.#early.get(jobId) ?? []), event]);
    }
  }

  #apply(event: JobEvent): void {
    if (this.phase !== 'running') {
      return;
    }
    switch (event.type) {
      case 'result':
        if (event.items.length) {
          this.results = [...this.results, ...event.items];
        }
        if (event.errors.length) {
          this.errors = [...this.errors, ...event.errors];
        }
        this.done = Math.max(this.done, this.results.length + this.errors.length);
        this.failed = Math.max(this.failed, this.errors.length);
        break;
      case 'progress':
        this.done = Math.max(this.done, event.done);
        this.failed = Math.max(this.failed, event.failed);
        this.total = event.total;
        break;
      case 'finished': {
        // The finished job is the whole truth: it replaces what the events built up.
        const job = event.job;
        this.results = job.results;
        this.errors = job.errors;
        this.total = job.total;
        this.done = job.done;
        this.failed = job.failed;
        this.timing = job.timing;
        this.backend = job.backend;
        this.error = job.error;
        this.phase = job.status === 'running' ? 'running' : job.status;
        break;
      }
    }
  }
}
