import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { ClassifyJob } from '../api/classify.js';
import { ApiError } from '../api/errors.js';
import type { EventBus } from '../api/events-bus.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import { expandPaths } from './expand.js';
import type { ModelLocation } from './load.js';
import type { CostReply, ExplainReply, ExplainRequest, ExportReply, FromClassifyWorker, ToClassifyWorker } from './worker-messages.js';

/** Finished jobs kept for classify.job and classify.exportResults. */
const KEEP_FINISHED = 20;

interface JobState {
  job: ClassifyJob;
  /** The classifier the job used (what its results are explained with). */
  location: ModelLocation;
  done: Promise<void>;
  settle: () => void;
}

type Reply = ExportReply | CostReply | ExplainReply;
type Pending = { resolve: (value: Reply) => void; reject: (err: Error) => void };

/**
 * The classification jobs of one studio and the worker thread that runs them. The worker starts on the first
 * request and keeps its model warm between jobs; a crash fails what was in flight and the next request starts a new one.
 */
export class ClassifyJobs {
  private worker: Worker | null = null;
  private readonly jobs = new Map<string, JobState>();
  private readonly pending = new Map<number, Pending>();
  private nextRequest = 1;
  private pictures: string | null = null;

  constructor(
    private readonly events: EventBus,
    private readonly nativeBinding?: string,
  ) {}

  /** Expands the paths, registers the job and hands it to the worker; returns at once. */
  async start(location: ModelLocation, paths: string[], topK: number, tenCrop: boolean): Promise<{ jobId: string; total: number }> {
    const { files, errors } = await expandPaths(paths);
    const jobId = randomUUID();
    let settle = (): void => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const job: ClassifyJob = {
      jobId,
      status: 'running',
      total: files.length + errors.length,
      done: errors.length,
      failed: errors.length,
      tenCrop,
      topK,
      classes: [],
      backend: null,
      results: [],
      errors: [...errors],
      timing: null,
      error: null,
    };
    this.jobs.set(jobId, { job, location, done, settle });
    this.prune();
    if (errors.length) {
      this.events.emit('classify.result', { jobId, items: [], errors });
      this.events.emit('classify.progress', { jobId, done: job.done, total: job.total, failed: job.failed });
    }
    this.post({ type: 'job', jobId, location, files, topK, tenCrop });
    return { jobId, total: job.total };
  }

  /** A job by id (not_found once it has been pruned). */
  get(jobId: string): ClassifyJob {
    const state = this.jobs.get(jobId);
    if (!state) {
      throw new ApiError('not_found', `No classification job ${jobId} (finished jobs are kept for the last ${KEEP_FINISHED}).`);
    }
    return state.job;
  }

  /** The classifier a job used. */
  locationOf(jobId: string): ModelLocation {
    this.get(jobId);
    return this.jobs.get(jobId)!.location;
  }

  /**
   * The folder for pictures made from a job's results (Grad-CAM overlays): a temporary folder of this studio,
   * removed with the job when it is pruned and entirely at close. The library is never written.
   */
  picturesDir(jobId: string): string {
    this.get(jobId);
    this.pictures ??= fs.mkdtempSync(path.join(os.tmpdir(), 'convnet-classified-'));
    return path.join(this.pictures, jobId);
  }

  /** Resolves with the job once it has finished, been cancelled or failed. */
  async wait(jobId: string): Promise<ClassifyJob> {
    this.get(jobId);
    await this.jobs.get(jobId)!.done;
    return this.get(jobId);
  }

  /** Asks the worker to stop a job after its current batch; resolves when it has. */
  async cancel(jobId: string): Promise<ClassifyJob> {
    const job = this.get(jobId);
    if (job.status === 'running') {
      this.worker?.postMessage({ type: 'cancel', jobId } satisfies ToClassifyWorker);
    }
    return this.wait(jobId);
  }

  /** Runs a cost measurement, an export or a Grad-CAM in the worker. */
  request(message: { type: 'cost'; location: ModelLocation }): Promise<CostReply>;
  request(message: Omit<ExplainRequest, 'requestId'>): Promise<ExplainReply>;
  request(message: { type: 'export'; location: ModelLocation; outDir: string; sample: string[] }): Promise<ExportReply>;
  request(
    message:
      | { type: 'cost'; location: ModelLocation }
      | { type: 'export'; location: ModelLocation; outDir: string; sample: string[] }
      | Omit<ExplainRequest, 'requestId'>,
  ): Promise<Reply> {
    const requestId = this.nextRequest++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ ...message, requestId });
    });
  }

  /** Cancels running jobs and ends the worker. */
  async close(): Promise<void> {
    for (const state of this.jobs.values()) {
      if (state.job.status === 'running') {
        this.worker?.postMessage({ type: 'cancel', jobId: state.job.jobId } satisfies ToClassifyWorker);
      }
    }
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
    this.failAll('The studio closed.');
    if (this.pictures) {
      fs.rmSync(this.pictures, { recursive: true, force: true });
      this.pictures = null;
    }
  }

  private post(message: ToClassifyWorker): void {
    if (!this.worker) {
      this.worker = this.spawn();
    }
    this.worker.postMessage(message);
    this.updateRef();
  }

  /** A warm but idle worker must not keep a process alive; a busy one must. */
  private updateRef(): void {
    const busy = this.pending.size > 0 || [...this.jobs.values()].some((s) => s.job.status === 'running');
    if (busy) {
      this.worker?.ref();
    } else {
      this.worker?.unref();
    }
  }

  private spawn(): Worker {
    const worker = spawnWorker(siblingModule(import.meta.url, 'classify-worker'), {
      workerData: this.nativeBinding ? { nativeBinding: this.nativeBinding } : {},
    });
    worker.on('message', (m: FromClassifyWorker) => this.receive(m));
    worker.on('error', (err) => {
      if (this.worker === worker) {
        this.worker = null;
      }
      this.failAll(`The classification worker crashed: ${err.message}`);
    });
    worker.on('exit', () => {
      if (this.worker === worker) {
        this.worker = null;
        this.failAll('The classification worker exited unexpectedly.');
      }
    });
    return worker;
  }

  private receive(m: FromClassifyWorker): void {
    if (m.type === 'reply') {
      const p = this.pending.get(m.requestId);
      this.pending.delete(m.requestId);
      if (m.ok) {
        p?.resolve(m.result);
      } else {
        p?.reject(new ApiError('conflict', m.message));
      }
      this.updateRef();
      return;
    }
    const state = this.jobs.get(m.jobId);
    if (!state) {
      return;
    }
    const { job } = state;
    switch (m.type) {
      case 'started':
        job.classes = m.classes;
        job.backend = m.backend;
        break;
      case 'batch':
        job.results.push(...m.items);
        job.errors.push(...m.errors);
        job.done += m.items.length + m.errors.length;
        job.failed += m.errors.length;
        this.events.emit('classify.result', { jobId: job.jobId, items: m.items, errors: m.errors });
        this.events.emit('classify.progress', { jobId: job.jobId, done: job.done, total: job.total, failed: job.failed });
        break;
      case 'finished':
        job.timing = m.timing;
        this.finish(state, m.cancelled ? 'cancelled' : 'completed', null);
        break;
      case 'failed':
        this.finish(state, 'failed', m.message);
        break;
    }
  }

  private finish(state: JobState, status: ClassifyJob['status'], error: string | null): void {
    state.job.status = status;
    state.job.error = error;
    this.events.emit('classify.finished', state.job);
    state.settle();
    this.updateRef();
  }

  private failAll(message: string): void {
    for (const state of this.jobs.values()) {
      if (state.job.status === 'running') {
        this.finish(state, 'failed', message);
      }
    }
    for (const p of this.pending.values()) {
      p.reject(new ApiError('unavailable', message));
    }
    this.pending.clear();
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((s) => s.job.status !== 'running');
    for (const s of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      this.jobs.delete(s.job.jobId);
      if (this.pictures) {
        fs.rmSync(path.join(this.pictures, s.job.jobId), { recursive: true, force: true });
      }
    }
  }
}
