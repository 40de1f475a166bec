import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { Handlers } from '../api/dispatch.js';
import { ApiError } from '../api/errors.js';
import { Schedule, type RunStatus, type RunSummary } from '../api/runs.js';
import { runEvalTask } from '../evaluate/eval-task.js';
import type { BackendName, ComputeStatus } from '../api/app.js';
import { computeModeFor } from '../backends/webgpu-host.js';
import { isComputeBackend } from '../backends/index.js';
import { measureNodeBackend } from '../backends/node-probe.js';
import { decideAutoBackend, probeAdapters, type AutoDecision } from './auto-backend.js';
import { siblingModule, spawnWorker } from '../images/spawn-worker.js';
import { ARCHS } from '../model/index.js';
import type { StudioContext } from '../studio.js';
import { configDiff, DEFAULT_CONFIG, resolveConfig } from './config.js';
import { checkFineTuneBackend } from './fine-tune-config.js';
import { configFromParent, describeParent } from './parent.js';
import { measureStepTime } from './estimate.js';
import type { ComputeChannel, ComputeHost } from './compute-host.js';
import { transferablesOf } from './compute-protocol.js';
import type { FromComputeWorker, ToComputeWorker } from './compute-worker.js';
import type { FromRunWorker, RunWorkerData, ToRunWorker } from './messages.js';
import { removeStaleCheckpointFolders } from './checkpoint.js';
import { describeOwner, LIVE_STATUSES, ownerOfThisProcess } from './run-owner.js';
import { claimRun, deleteRunRows, getRunDetail, getRunSummary, linkRunParent, listRuns, logRun, restoreRunStatus, runRow, settleOrphanedRuns, setRunStatus, updateRunMeta } from './run-store.js';
import { configOfRun } from './run-config.js';
import { runDirOf } from './run-folder.js';

type RunMethod =
  | 'runs.start' | 'runs.list' | 'runs.get' | 'runs.pause' | 'runs.resume' | 'runs.stop' | 'runs.defaults'
  | 'runs.evaluate' | 'runs.predict' | 'runs.update' | 'runs.delete' | 'runs.stepTime';

/** The training workers of one studio. One run trains at a time: on a laptop two would only halve each other. */
export class RunManager {
  private readonly workers = new Map<number, { worker: Worker; done: Promise<void> }>();
  /** Runs whose worker this process ends on purpose (terminate): they end interrupted, with that reason. */
  private readonly terminating = new Set<number>();
  private computeHost: ComputeHost | null = null;
  /** auto's measured decision, made once per app session (the hardware does not change under it). */
  private autoDecision: Promise<AutoDecision> | null = null;
  /** Why webgpu is left out of auto for the rest of this session (its device was lost), or null. */
  private webgpuFailure: string | null = null;
  /** Set once the studio is closing: no failover then. */
  private closing = false;
  private adapters: Promise<ComputeStatus['adapters']> | null = null;

  constructor(
    private readonly ctx: StudioContext,
    private readonly nativeBinding?: string,
  ) {}

  /** The desktop app's compute windows: runs on webgpu/webgl train there (main/compute-window.ts sets it). */
  setComputeHost(host: ComputeHost | null): void {
    this.computeHost = host;
    this.autoDecision = null;
    this.adapters = null;
  }

  /** The compute window's adapters (asked once per session) and auto's last decision. */
  async computeStatus(): Promise<ComputeStatus> {
    const { mode, note } = computeModeFor(this.ctx.host);
    const host = this.computeHost;
    if (!host) {
      return { mode: 'node-only', adapters: [], auto: null, note: mode === 'node-only' ? note : 'This app has no compute window.' };
    }
    this.adapters ??= probeAdapters(host);
    const decision = await this.lastAutoDecision();
    return {
      mode: 'compute-window',
      adapters: await this.adapters,
      auto: decision ? { backend: decision.backend, device: decision.device, reason: decision.reason } : null,
      note,
    };
  }

  /**
   * The backend a run with this preference trains on. `auto` with a compute window is decided by a
   * measured probe (auto-backend.ts), once per session; otherwise the run's worker chooses as always
   * (undefined). The decision's reason goes to the run's log.
   */
  async resolveBackend(runId: number, preference: string): Promise<BackendName | undefined> {
    if (preference !== 'auto' || !this.computeHost) {
      return undefined;
    }
    const host = this.computeHost;
    // Measured once per session: later runs reuse the decision, with nothing to time (and no such message).
    if (!this.autoDecision) {
      this.ctx.events.emit('train.progress', {
        runId, phase: 'preparing', epoch: 0, epochs: 0, batch: 0, batches: 0, loss: null, imagesPerSecond: null, etaSeconds: null, lr: 0,
        message: 'Choosing a backend: timing a short training step on webgpu and on the CPU…',
      });
      this.autoDecision = decideAutoBackend({ computeHost: host, measureNode: (b) => measureNodeBackend(b), skipWebgpu: this.webgpuFailure });
    }
    let decision: AutoDecision;
    try {
      decision = await this.autoDecision;
    } catch (err) {
      this.autoDecision = null;
      throw new ApiError('unavailable', err instanceof Error ? err.message : String(err));
    }
    logRun(this.ctx.library.db, runId, 'info', decision.reason);
    this.ctx.events.emit('app.log', { level: 'info', message: `Run ${runId}: ${decision.reason}`, time: Date.now() });
    return decision.backend;
  }

  /** The last auto decision of this session, if one was made (for app.info and tests). */
  async lastAutoDecision(): Promise<AutoDecision | null> {
    return this.autoDecision ? this.autoDecision.catch(() => null) : null;
  }

  /** Refuses a webgpu/webgl run where no compute window exists (browser mode, CLI), with what to do instead. */
  checkBackend(backend: string): void {
    if (isComputeBackend(backend) && !this.computeHost) {
      const where = this.ctx.host === 'server' ? 'In browser mode the server trains in Node' : this.ctx.host === 'cli' ? 'The CLI trains in Node' : 'This app has no compute window';
      throw new ApiError('unavailable', `The ${backend} backend trains only in the desktop app's compute window. ${where}: choose auto, tensorflow, wasm or cpu.`);
    }
  }

  /** Starts a worker for a run (fresh or resumed); resolves once it is spawned. */
  launch(runId: number, resume: boolean, chosen?: BackendName): void {
    this.checkIdle();
    const preference = configOfRun(runRow(this.ctx.library.db, runId)).backend;
    const backend = chosen ?? preference;
    this.checkBackend(backend);
    const compute = isComputeBackend(backend);
    const data: RunWorkerData = {
      libraryDir: this.ctx.library.dir,
      runId,
      resume,
      ...(this.nativeBinding ? { nativeBinding: this.nativeBinding } : {}),
      ...(chosen ? { backend: chosen } : {}),
    };
    const worker = spawnWorker(siblingModule(import.meta.url, compute ? 'compute-worker' : 'run-worker'), { workerData: data });
    let finished = false;
    // An `auto` run whose compute window or GPU went away continues from its checkpoint on the CPU.
    let failover: string | null = null;
    const channel = compute
      ? this.connectWindow(runId, worker, () => finished, (reason) => {
          this.webgpuFailure = `it failed earlier in this session (${reason})`;
          this.autoDecision = null;
          failover = preference === 'auto' && !this.closing ? reason : null;
        })
      : null;
    const done = new Promise<void>((resolve) => {
      worker.on('message', (m: FromComputeWorker) => {
        if (m.type === 'compute') {
          return; // relayed by connectWindow
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
      const chosen = await this.resolveBackend(runId, 'auto');
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

  /** Opens a compute window for a run and relays protocol messages between it and the run's worker. */
  private connectWindow(runId: number, worker: Worker, isOver: () => boolean, onLost: (reason: string) => void): Promise<ComputeChannel | null> {
    const toWorker = (m: ToComputeWorker, transfer: ArrayBuffer[] = []): void => worker.postMessage(m, transfer);
    const pending: Array<{ message: Extract<FromComputeWorker, { type: 'compute' }>['message'] }> = [];
    let live: ComputeChannel | null = null;
    worker.on('message', (m: FromComputeWorker) => {
      if (m.type === 'compute') {
        if (live) {
          live.post(m.message, transferables(m.message));
        } else {
          pending.push({ message: m.message });
        }
      }
    });
    return this.computeHost!.open().then(
      (channel) => {
        live = channel;
        channel.onMessage((m) => toWorker({ type: 'compute', message: m }, transferables(m)));
        channel.onLost((reason) => {
          if (isOver()) {
            return; // the run ended and its window was closed: not a loss
          }
          this.ctx.events.emit('app.log', { level: 'error', message: `Run ${runId}: ${reason}`, time: Date.now() });
          onLost(reason);
          toWorker({ type: 'compute-lost', reason });
        });
        pending.splice(0).forEach((p) => channel.post(p.message, transferables(p.message)));
        return channel;
      },
      (err: Error) => {
        onLost(`The compute window could not be opened: ${err.message}`);
        toWorker({ type: 'compute-lost', reason: `The compute window could not be opened: ${err.message}` });
        return null;
      },
    );
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

function transferables(m: { type: string }): ArrayBuffer[] {
  return transferablesOf(m as Parameters<typeof transferablesOf>[0]);
}

const managers = new WeakMap<StudioContext['library'], RunManager>();

/** The run manager of a studio (the CLI waits on it). */
export function runManagerOf(ctx: Pick<StudioContext, 'library'>): RunManager {
  const m = managers.get(ctx.library);
  if (!m) {
    throw new Error('runHandlers(ctx) was not installed on this studio.');
  }
  return m;
}

/** `runs.*`: start, watch and control training runs. */
export function runHandlers(ctx: StudioContext, options: { nativeBinding?: string | undefined } = {}): Pick<Handlers, RunMethod> {
  const { db } = ctx.library;
  const manager = new RunManager(ctx, options.nativeBinding);
  managers.set(ctx.library, manager);
  ctx.closers.push(() => manager.closeAll());
  settleOrphanedRuns(db);
  sweepCheckpointFolders(ctx, db);

  const summary = (id: number): RunSummary => getRunSummary(db, id);
  const requireStatus = (id: number, allowed: RunStatus[], verb: string): void => {
    const { status } = runRow(db, id);
    if (!allowed.includes(status)) {
      throw new ApiError('conflict', `Run ${id} is ${status}; it cannot be ${verb}.`);
    }
  };
  /** Throws `conflict` naming the process (PID, host) when a run is live in another process. */
  const requireNotElsewhere = (id: number, what: string): void => {
    const row = runRow(db, id);
    if ((LIVE_STATUSES as readonly string[]).includes(row.status) && !manager.isTraining(id)) {
      throw new ApiError('conflict', `Run ${id} is ${row.status === 'queued' ? 'starting' : row.status} in ${describeOwner(row)}; ${what}`);
    }
  };

  return {
    'runs.start': async (input) => {
      const parent = input.initFrom ? describeParent(ctx.library, input.initFrom) : null;
      const config = resolveConfig(parent ? configFromParent(input, parent) : input);
      manager.checkBackend(config.backend);
      checkFineTuneBackend(config);
      const dataset = db.prepare('SELECT id, name FROM datasets WHERE id = ?').get(config.datasetId) as { id: number; name: string } | undefined;
      if (!dataset) {
        throw new ApiError('not_found', `Dataset ${config.datasetId} does not exist.`);
      }
      const now = Date.now();
      const id = Number(
        db
          .prepare(
            `INSERT INTO runs (dataset_id, dataset_name, arch, status, config, config_diff, created_at, heartbeat_at, owner_pid, owner_host)
             VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
          )
          .run(dataset.id, dataset.name, config.arch, JSON.stringify(config), JSON.stringify(configDiff(config)), now, now, ownerOfThisProcess().pid, ownerOfThisProcess().host).lastInsertRowid,
      );
      if (parent) {
        linkRunParent(db, id, parent);
      }
      try {
        manager.checkIdle();
        // A fine-tuned run trains in Node (the compute window's trainer starts from scratch only).
        manager.launch(id, false, parent ? undefined : await manager.resolveBackend(id, config.backend));
      } catch (err) {
        db.prepare('DELETE FROM runs WHERE id = ?').run(id);
        throw err;
      }
      return { id };
    },
    'runs.list': async () => listRuns(db),
    'runs.get': async ({ id }) => getRunDetail(db, id),
    'runs.pause': async ({ id }) => {
      requireNotElsewhere(id, 'pause it there.');
      requireStatus(id, ['running'], 'paused');
      manager.control(id, 'pause');
      return summary(id);
    },
    'runs.resume': async ({ id }) => {
      const { status } = runRow(db, id);
      if (status === 'paused' && manager.control(id, 'resume')) {
        return summary(id);
      }
      requireNotElsewhere(id, 'it can be resumed once it stops there.');
      requireStatus(id, ['paused', 'stopped', 'interrupted', 'failed', 'completed'], 'resumed');
      if (status === 'completed') {
        const row = runRow(db, id);
        if (row.epochs_done >= configOfRun(row).epochs) {
          throw new ApiError('conflict', `Run ${id} already finished all its epochs.`);
        }
      }
      const runDir = runDirOf(ctx.library.dir, id);
      if (!fs.existsSync(path.join(runDir, 'checkpoint', 'checkpoint.json')) && runRow(db, id).epochs_done > 0) {
        throw new ApiError('conflict', `Run ${id} has no checkpoint to resume from.`);
      }
      manager.checkIdle();
      const saved = configOfRun(runRow(db, id));
      // A fine-tuned run resumes in Node, like it started (its layers' learning rates are applied there).
      const backend = saved.initFrom ? undefined : await manager.resolveBackend(id, saved.backend);
      // Atomically this process's (queued) before its worker starts: another process resuming it at the same moment gets a conflict.
      const before = runRow(db, id);
      claimRun(db, id);
      try {
        manager.launch(id, true, backend);
      } catch (err) {
        restoreRunStatus(db, id, before);
        throw err;
      }
      return summary(id);
    },
    'runs.stop': async ({ id }) => {
      if (!manager.control(id, 'stop')) {
        requireNotElsewhere(id, 'stop it there (Ctrl+C in its terminal, or Stop in the app that trains it).');
        requireStatus(id, [], 'stopped (it is not training)');
      }
      return summary(id);
    },
    'runs.evaluate': async ({ id, split, tenCrop }) => {
      runRow(db, id);
      return (await runEvalTask(ctx.library.dir, { kind: 'predict', runId: id, split, tenCrop }, options.nativeBinding)).evaluation;
    },
    'runs.predict': async ({ id, split, tenCrop }) => {
      runRow(db, id);
      return (await runEvalTask(ctx.library.dir, { kind: 'predict', runId: id, split, tenCrop }, options.nativeBinding)).set;
    },
    'runs.update': async ({ id, tags, note }) => {
      updateRunMeta(db, id, { tags, note });
      return summary(id);
    },
    'runs.delete': async ({ id }) => {
      requireNotElsewhere(id, 'stop it there before deleting it.');
      const { status } = runRow(db, id);
      if (manager.isTraining(id) || status === 'running' || status === 'paused' || status === 'queued') {
        throw new ApiError('conflict', `Run ${id} is ${status === 'queued' ? 'starting' : status}; stop it before deleting it.`);
      }
      // Files first: a failure leaves the row, so the user can retry; rows go in one statement.
      fs.rmSync(runDirOf(ctx.library.dir, id), { recursive: true, force: true });
      return { deleted: deleteRunRows(db, id) };
    },
    'runs.stepTime': (input) => measureStepTime(input),
    'runs.defaults': async () => {
      const { datasetId: _d, ...config } = DEFAULT_CONFIG;
      return {
        config,
        archs: Object.values(ARCHS).map((a) => ({
          name: a.name,
          title: a.title,
          description: a.description,
          defaultInputSize: a.defaultInputSize,
          defaultLrn: a.defaultLrn,
          defaultInit: a.defaultInit,
        })),
        schedules: {
          plateau: Schedule.options[0].parse({ kind: 'plateau' }),
          step: Schedule.options[1].parse({ kind: 'step' }),
          cosine: Schedule.options[2].parse({ kind: 'cosine' }),
        },
      };
    },
  };
}

/** Removes checkpoint.tmp-* folders that killed writers left in the runs no process trains (at library open). */
function sweepCheckpointFolders(ctx: StudioContext, db: StudioContext['library']['db']): void {
  const rows = db.prepare(`SELECT id FROM runs WHERE status NOT IN ('queued', 'running', 'paused')`).all() as Array<{ id: number }>;
  for (const { id } of rows) {
    try {
      removeStaleCheckpointFolders(runDirOf(ctx.library.dir, id), true);
    } catch (err) {
      ctx.events.emit('app.log', { level: 'warn', message: `Run ${id}: could not remove a stale checkpoint folder: ${err instanceof Error ? err.message : String(err)}`, time: Date.now() });
    }
  }
}
