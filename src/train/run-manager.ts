// The training workers of one studio: starting a run's worker (in Node, or the one that drives a compute
// window), relaying its messages as events, controls, failover of an auto run whose window was lost, and
// settling when a worker ends. Which backend a run gets is backend-choice.ts'; the API is handlers.ts'.
import type { Worker } from 'node:worker_threads';
import type { BackendName, ComputeStatus } from '../api/app.js';
import { ApiError } from '../api/errors.js';
import { isComputeBackend } from '../backends/index.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import type { StudioContext } from '../library/studio-context.js';
import type { AutoDecision } from './auto-backend.js';
import { BackendChooser } from './backend-choice.js';
import type { ComputeHost } from './compute/host/host.js';
import { relayComputeWindow } from './compute/host/relay.js';
import type { FromComputeWorker } from './compute/worker/worker.js';
import type { FromRunWorker, RunWorkerData, ToRunWorker } from './messages.js';
import { configOfRun } from '../runs/run-config.js';
import { logRun, runRow, setRunStatus } from '../runs/run-store.js';

/** The training workers of one studio. One run trains at a time: on a laptop two would only halve each other. */
/** What a host needs of training beyond the contract: `Studio.training` (the CLI waits on a run, Ctrl+C twice ends it; Electron gives it the compute windows). */
export interface TrainingEngine {
  /** Resolves when the run's worker has exited (immediately if none). */
  settled(runId: number): Promise<void>;
  /** Ends a run's worker at once, without a checkpoint of the current batch; the run ends interrupted. */
  terminate(runId: number): Promise<void>;
  /** The desktop app's compute windows (main/compute-window.ts sets them; tests set a Chromium one). */
  setComputeHost(host: ComputeHost | null): void;
  /** The last auto decision of this session, if one was made. */
  lastAutoDecision(): Promise<AutoDecision | null>;
}

export class RunManager implements TrainingEngine {
  private readonly workers = new Map<number, { worker: Worker; done: Promise<void> }>();
  /** Runs whose worker this process ends on purpose (terminate): they end interrupted, with that reason. */
  private readonly terminating = new Set<number>();
  /** Set once the studio is closing: no failover then. */
  private closing = false;
  readonly backends: BackendChooser;

  constructor(
    private readonly ctx: StudioContext,
    private readonly nativeBinding?: string,
  ) {
    this.backends = new BackendChooser(ctx);
  }

  /** The desktop app's compute windows (main/compute-window.ts sets them; tests set a Chromium one). */
  setComputeHost(host: ComputeHost | null): void {
    this.backends.setComputeHost(host);
  }

  /** For app.compute: the compute window's adapters and auto's last decision. */
  computeStatus(): Promise<ComputeStatus> {
    return this.backends.computeStatus();
  }

  /** The last auto decision of this session, if one was made (for app.info and tests). */
  lastAutoDecision(): Promise<AutoDecision | null> {
    return this.backends.lastAutoDecision();
  }

  /** The backend a run with this preference trains on (see BackendChooser.resolveBackend). */
  resolveBackend(runId: number, preference: string): Promise<BackendName | undefined> {
    return this.backends.resolveBackend(runId, preference);
  }

  /** Refuses a webgpu/webgl run where no compute window exists. */
  checkBackend(backend: string): void {
    this.backends.checkBackend(backend);
  }

  /** Starts a worker for a run (fresh or resumed); resolves once it is spawned. */
  launch(runId: number, resume: boolean, chosen?: BackendName): void {
    this.checkIdle();
    const preference = configOfRun(runRow(this.ctx.library.db, runId)).backend;
    const backend = chosen ?? preference;
    this.backends.checkBackend(backend);
    const compute = isComputeBackend(backend);
    const data: RunWorkerData = {
      libraryDir: this.ctx.library.dir,
      runId,
      resume,
      ...(this.nativeBinding ? { nativeBinding: this.nativeBinding } : {}),
      ...(chosen ? { backend: chosen } : {}),
    };
    const worker = spawnWorker(siblingModule(import.meta.url, compute ? 'compute/worker/worker' : 'run-worker'), { workerData: data });
    let finished = false;
    // An `auto` run whose compute window or GPU went away continues from its checkpoint on the CPU.
    let failover: string | null = null;
    const channel = compute
      ? relayComputeWindow(this.ctx, this.backends.host!, runId, worker, () => finished, (reason) => {
          this.backends.webgpuLost(reason);
          failover = preference === 'auto' && !this.closing ? reason : null;
        })
      : null;
    const done = new Promise<void>((resolve) => {
      worker.on('message', (m: FromComputeWorker) => {
        if (m.type === 'compute') {
          return; // relayed by relayComputeWindow
        }
        if (m.type === 'finished') {
          finished = true;
          void channel?.then((c) => c?.close());
          if (failover !== null && m.status === 'interrupted') {
            this.forward(runId, { type: 'log', level: 'warn', message: `${failover} Continuing from the last checkpoint on the CPU.` });
            return;
          }
        }
        this.forward(runId, m);
      });
      worker.on('error', (err) => {
        // A crash inside the worker (not a training error it reported itself).
        if (!finished) {
          finished = true;
          const message = `The training worker crashed: ${err.message}`;
          setRunStatus(this.ctx.library.db, runId, 'failed', message);
          this.forward(runId, { type: 'finished', status: 'failed', error: message, bestValTop1Error: null, bestValTop5Error: null });
        }
      });
      worker.on('exit', () => {
        this.workers.delete(runId);
        void channel?.then((c) => c?.close());
        if (!finished) {
          const why = this.terminating.delete(runId) ? 'Stopped at once, without a checkpoint of the current batch' : 'The training worker exited unexpectedly';
          setRunStatus(this.ctx.library.db, runId, 'interrupted', `${why}; resume continues from the last checkpoint.`);
          this.forward(runId, { type: 'finished', status: 'interrupted', error: `${why}.`, bestValTop1Error: null, bestValTop5Error: null });
        }
        if (failover !== null && !this.closing) {
          void this.failOver(runId, failover).finally(resolve);
        } else {
          resolve();
        }
      });
    });
    this.workers.set(runId, { worker, done });
  }

  /** Resumes an `auto` run whose compute window was lost on what auto now chooses without webgpu; settles when that ends. */
  private async failOver(runId: number, reason: string): Promise<void> {
    const db = this.ctx.library.db;
    try {
      const chosen = await this.backends.resolveBackend(runId, 'auto');
      logRun(db, runId, 'warn', `Failing over: ${reason} The run continues from its last checkpoint on ${chosen ?? 'the CPU'}.`);
      this.launch(runId, true, chosen);
      await this.workers.get(runId)?.done;
    } catch (err) {
      const message = `${reason} Failing over to the CPU did not work: ${err instanceof Error ? err.message : String(err)}; resume the run to continue from its last checkpoint.`;
      setRunStatus(db, runId, 'interrupted', message);
      this.forward(runId, { type: 'finished', status: 'interrupted', error: message, bestValTop1Error: null, bestValTop5Error: null });
    }
  }

  /** Throws `conflict` while a run is training (one at a time). */
  checkIdle(): void {
    const busy = [...this.workers.keys()][0];
    if (busy !== undefined) {
      throw new ApiError('conflict', `Run ${busy} is training; stop it or wait for it to finish before starting another.`);
    }
  }

  /** Sends pause/resume/stop to a live run (its compute window gets it through the worker); false when the run has no worker here. */
  control(runId: number, action: ToRunWorker['action']): boolean {
    const entry = this.workers.get(runId);
    if (!entry) {
      return false;
    }
    entry.worker.postMessage({ type: 'control', action } satisfies ToRunWorker);
    return true;
  }

  /** Ends a run's worker at once, without a checkpoint of the current batch (a second Ctrl+C); it ends interrupted. */
  async terminate(runId: number): Promise<void> {
    const entry = this.workers.get(runId);
    if (entry) {
      this.terminating.add(runId);
      await entry.worker.terminate();
    }
    await this.settled(runId);
  }

  /** Whether a run has a training worker in this process. */
  isTraining(runId: number): boolean {
    return this.workers.has(runId);
  }

  /** Resolves when the run's worker has exited (immediately if none). */
  async settled(runId: number): Promise<void> {
    await this.workers.get(runId)?.done;
  }

  /** Stops every run cleanly (checkpointing where it stands) and waits for the workers. */
  async closeAll(): Promise<void> {
    this.closing = true;
    for (const id of this.workers.keys()) {
      this.control(id, 'stop');
    }
    await Promise.all([...this.workers.values()].map((w) => w.done));
  }

  private forward(runId: number, m: FromRunWorker): void {
    const { events } = this.ctx;
    switch (m.type) {
      case 'progress': {
        const { type: _t, ...rest } = m;
        events.emit('train.progress', { runId, ...rest });
        break;
      }
      case 'epoch':
        events.emit('train.epoch', { runId, ...m.metrics });
        break;
      case 'log':
        events.emit('app.log', { level: m.level, message: `Run ${runId}: ${m.message}`, time: Date.now() });
        break;
      case 'status':
        events.emit('run.status', { runId, status: m.status });
        break;
      case 'finished':
        events.emit('run.finished', { runId, status: m.status, error: m.error, bestValTop1Error: m.bestValTop1Error, bestValTop5Error: m.bestValTop5Error });
        break;
    }
  }
}

const managers = new WeakMap<StudioContext['library'], RunManager>();

/** Registers the run manager of a studio's library (runHandlers does). */
export function registerRunManager(library: StudioContext['library'], manager: RunManager): void {
  managers.set(library, manager);
}

/** The run manager of a studio, once handlers.ts' runHandlers registered it: for the studio that wires it (hosts use `Studio.training`). */
export function runManagerOf(ctx: Pick<StudioContext, 'library'>): RunManager {
  const m = managers.get(ctx.library);
  if (!m) {
    throw new Error('runHandlers(ctx) was not installed on this studio.');
  }
  return m;
}
