import { randomUUID } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import type { ImportFinished, ImportJob, ImportProgress, ImportRequest } from '../api/datasets.js';
import { ApiError } from '../api/errors.js';
import type { EventBus } from '../api/events-bus.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import { sourceKey } from './store.js';
import type { ImportWorkerData, WorkerMessage } from './worker-messages.js';

interface RunningJob {
  job: ImportJob;
  key: string;
  worker: Worker;
  cancelFlag: Int32Array;
  done: Promise<ImportFinished>;
}

/** Runs imports in worker threads and relays their progress as `import.progress` / `import.finished` events. */
export class ImportJobs {
  private readonly running = new Map<string, RunningJob>();

  constructor(
    private readonly libraryDir: string,
    private readonly events: EventBus,
    private readonly nativeBinding?: string,
  ) {}

  /** Starts an import; rejects a second import of the same sources or dataset while one runs. */
  start(request: ImportRequest): { jobId: string; done: Promise<ImportFinished> } {
    const key = sourceKey(request.paths);
    for (const other of this.running.values()) {
      const sameDataset = request.datasetId !== undefined && other.job.progress.datasetId === request.datasetId;
      if (other.key === key || sameDataset) {
        throw new ApiError('conflict', `These sources are being imported already (job ${other.job.jobId}).`);
      }
    }
    const jobId = randomUUID();
    const cancelBuffer = new SharedArrayBuffer(4);
    const data: ImportWorkerData = {
      jobId,
      libraryDir: this.libraryDir,
      request,
      cancelFlag: cancelBuffer,
      ...(this.nativeBinding ? { nativeBinding: this.nativeBinding } : {}),
    };
    const worker = spawnWorker(siblingModule(import.meta.url, 'import-worker'), { workerData: data });
    const progress: ImportProgress = {
      jobId, datasetId: null, phase: 'scanning', seen: 0, total: null, indexed: 0, skipped: 0, duplicates: 0, hashed: 0, ratePerSecond: 0, etaSeconds: null, currentPath: null,
    };
    const job: ImportJob = { jobId, paths: request.paths, name: request.name ?? null, startedAt: Date.now(), progress };
    const done = new Promise<ImportFinished>((resolve) => {
      let finished: ImportFinished | null = null;
      const end = (result: ImportFinished): void => {
        if (finished) {return;}
        finished = result;
        this.running.delete(jobId);
        this.events.emit('import.finished', result);
        resolve(result);
      };
      const fail = (message: string): void => end({ jobId, datasetId: job.progress.datasetId, result: null, error: { code: 'internal', message } });
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') {
          job.progress = message.progress;
          this.events.emit('import.progress', message.progress);
        } else if (message.type === 'finished') {
          end(message.finished);
        } else {
          fail(`Import failed: ${message.message}`);
        }
      });
      worker.on('error', (err) => fail(`Import failed: ${err.message}`));
      worker.on('exit', (code) => fail(`The import stopped unexpectedly (worker exit code ${code}); what was indexed is kept — import again to continue.`));
    });
    this.running.set(jobId, { job, key, worker, cancelFlag: new Int32Array(cancelBuffer), done });
    return { jobId, done };
  }

  /** Asks a running import to stop after the files in flight; false when no such job runs. */
  cancel(jobId: string): boolean {
    const running = this.running.get(jobId);
    if (!running) {return false;}
    Atomics.store(running.cancelFlag, 0, 1);
    return true;
  }

  /** Imports running now, with their latest progress. */
  list(): ImportJob[] {
    return [...this.running.values()].map((r) => r.job);
  }

  /** True while this process imports into the dataset. */
  isImporting(datasetId: number): boolean {
    return [...this.running.values()].some((r) => r.job.progress.datasetId === datasetId);
  }

  /** Waits for one job's end; undefined when it is not running. */
  wait(jobId: string): Promise<ImportFinished> | undefined {
    return this.running.get(jobId)?.done;
  }

  /** Cancels every import and waits for them to commit and stop (terminating after `graceMs`). */
  async closeAll(graceMs = 10_000): Promise<void> {
    const jobs = [...this.running.values()];
    for (const job of jobs) {Atomics.store(job.cancelFlag, 0, 1);}
    await Promise.all(
      jobs.map(async (job) => {
        const timer = setTimeout(() => void job.worker.terminate(), graceMs);
        await job.done;
        clearTimeout(timer);
      }),
    );
  }

  /** Stops a job's thread at once, as a crash would (tests use it to check the library stays consistent). */
  async kill(jobId: string): Promise<void> {
    const job = this.running.get(jobId);
    if (job) {
      await job.worker.terminate();
      await job.done;
    }
  }
}
