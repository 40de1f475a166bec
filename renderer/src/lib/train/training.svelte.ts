// The Train view's live state: the run being trained (or just finished), fed by events without re-fetching,
// reattached after a reload from `runs.list` + `runs.get`, and controlled with pause/resume/stop.
import { call, on, onReconnect } from '../api';
import { errorMessage } from '../library/types';
import { isLive } from '../runs/types';
import type { EpochMetrics, RunDetail, RunFinished, RunStatus, TrainConfigInput, TrainProgress } from '../runs/types';

/** A point of the live loss curve: x in epochs (fractional within one), y the running train loss. */
export interface LossPoint {
  x: number;
  y: number;
}

/** One run as the Train view follows it. */
export class LiveRun {
  readonly id: number;
  status = $state<RunStatus>('queued');
  detail = $state.raw<RunDetail | null>(null);
  progress = $state.raw<TrainProgress | null>(null);
  lossPoints = $state.raw<LossPoint[]>([]);
  epochs = $state.raw<EpochMetrics[]>([]);
  finished = $state.raw<RunFinished | null>(null);
  /** The control request in flight: pausing takes effect after the current batch. */
  pending = $state<'pause' | 'resume' | 'stop' | null>(null);
  actionError = $state<string | null>(null);

  constructor(id: number) {
    this.id = id;
  }

  /** Best validation errors so far (from the finish event, else the epochs seen). */
  get best(): { top1: number | null; top5: number | null } {
    if (this.finished && this.finished.bestValTop1Error !== null) {
      return { top1: this.finished.bestValTop1Error, top5: this.finished.bestValTop5Error };
    }
    let top1: number | null = null;
    let top5: number | null = null;
    for (const e of this.epochs) {
      if (e.valTop1Error !== null && (top1 === null || e.valTop1Error < top1)) {
        top1 = e.valTop1Error;
        top5 = e.valTop5Error;
      }
    }
    return { top1, top5 };
  }

  /** Total epochs of the run. */
  get totalEpochs(): number {
    return this.progress?.epochs ?? this.detail?.config.epochs ?? 0;
  }

  /** True while a worker holds the run. */
  get live(): boolean {
    return isLive(this.status);
  }

  /** Takes in what `runs.get` knows, keeping any epochs events already delivered; `current` trusts its status over the events'. */
  applyDetail(detail: RunDetail, current = false): void {
    this.detail = detail;
    if (current) {
      this.applyStatus(detail.status);
    } else if (!this.finished && !this.progress) {
      this.status = detail.status;
    }
    this.#mergeEpochs(detail.epochsData);
  }

  /** One progress event. */
  applyProgress(p: TrainProgress): void {
    this.progress = p;
    // Only a live worker reports progress: the run is (again) training, e.g. resumed from the Runs view.
    if (this.pending !== 'pause' && this.status !== 'running') {
      this.status = 'running';
      this.finished = null;
    }
    if (this.pending === 'resume') {
      this.pending = null;
    }
    if (p.phase === 'training' && p.loss !== null && p.batches > 0) {
      const x = p.epoch - 1 + p.batch / p.batches;
      const last = this.lossPoints[this.lossPoints.length - 1];
      this.lossPoints = last && last.x >= x ? [...this.lossPoints.filter((q) => q.x < x), { x, y: p.loss }] : [...this.lossPoints, { x, y: p.loss }];
    }
  }

  /** A status the worker reports (paused once the batch in hand is done, running again on resume), or the run's, read after a reconnect. */
  applyStatus(status: RunStatus): void {
    this.status = status;
    if ((this.pending === 'pause' && status === 'paused') || (this.pending === 'resume' && status === 'running') || !isLive(status)) {
      this.pending = null;
    }
  }

  /** One finished epoch. */
  applyEpoch(e: EpochMetrics): void {
    this.#mergeEpochs([e]);
  }

  /** The run's end. */
  applyFinished(f: RunFinished): void {
    this.finished = f;
    this.status = f.status;
    this.pending = null;
  }

  #mergeEpochs(list: EpochMetrics[]): void {
    const byEpoch = new Map(this.epochs.map((e) => [e.epoch, e]));
    for (const e of list) {
      byEpoch.set(e.epoch, e);
    }
    this.epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  }
}

/** The Train view's store: the followed run, starting one, and its controls. */
export class TrainingStore {
  run = $state<LiveRun | null>(null);
  starting = $state(false);
  startError = $state<string | null>(null);
  #subscribed = false;
  readonly #refreshing = new Set<number>();

  /** Follows training events (for the app's lifetime: a run goes on while other views show) and reattaches. */
  start(): void {
    if (!this.#subscribed) {
      this.#subscribed = true;
      on('train.progress', (p) => {
        if (this.run?.id === p.runId) {
          const run = this.run;
          run.applyProgress(p);
          // The backend and device are recorded once the worker has chosen them: fetch them once.
          if (p.phase !== 'preparing' && run.detail && run.detail.backend === null && !this.#refreshing.has(run.id)) {
            this.#refreshing.add(run.id);
            void this.#refresh(run).finally(() => this.#refreshing.delete(run.id));
          }
        } else if (!this.run || !this.run.live) {
          // A run started elsewhere (the CLI, another window): follow it.
          void this.attach(p.runId);
        }
      });
      on('train.epoch', (e) => {
        if (this.run?.id === e.runId) {
          const { runId: _r, ...metrics } = e;
          this.run.applyEpoch(metrics);
        }
      });
      on('run.status', (s) => {
        if (this.run?.id === s.runId) {
          this.run.applyStatus(s.status);
        }
      });
      on('run.finished', (f) => {
        if (this.run?.id === f.runId) {
          this.run.applyFinished(f);
          void this.#refresh(this.run);
        }
      });
      // Events sent while the connection was down are lost (a pause's run.status among them): ask once.
      onReconnect(() => {
        if (this.run) {
          void this.#refresh(this.run, true);
        }
      });
    }
    if (!this.run) {
      void this.reattach();
    }
  }

  /** Finds a run that is training or paused (after a reload) and follows it. */
  async reattach(): Promise<void> {
    try {
      const list = await call('runs.list');
      // A run another process trains sends its events there, not here: nothing to follow.
      const live = list.find((r) => isLive(r.status) && !r.trainingElsewhere);
      if (live && !this.run) {
        await this.attach(live.id);
      }
    } catch {
      // The form stays usable; starting a run reports its own errors.
    }
  }

  /** Follows one run: its epochs so far from `runs.get`, then events. */
  async attach(id: number): Promise<void> {
    if (this.run?.id === id) {
      return;
    }
    const run = new LiveRun(id);
    this.run = run;
    await this.#refresh(run);
  }

  /** Starts a run; errors stay on the store for the form to show. */
  async begin(config: TrainConfigInput): Promise<boolean> {
    this.starting = true;
    this.startError = null;
    try {
      const { id } = await call('runs.start', config);
      await this.attach(id);
      return true;
    } catch (err) {
      this.startError = errorMessage(err);
      return false;
    } finally {
      this.starting = false;
    }
  }

  /** Pauses after the current batch; the status turns to paused once the worker has stopped. */
  async pause(): Promise<void> {
    const run = this.run;
    if (run) {
      // The worker's run.status event confirms it (applyStatus), or run.finished if the run ended first.
      await this.#act(run, 'pause');
    }
  }

  /** Resumes a paused run, or a stopped/interrupted one from its checkpoint. */
  async resume(): Promise<void> {
    const run = this.run;
    if (run && (await this.#act(run, 'resume'))) {
      run.finished = null;
      run.status = 'running';
    }
  }

  /** Stops after the current batch; the checkpoint stays and the run can be resumed. */
  async stop(): Promise<void> {
    const run = this.run;
    if (run) {
      await this.#act(run, 'stop');
    }
  }

  /** Leaves a finished run and shows the form again. */
  dismiss(): void {
    if (this.run && !this.run.live) {
      this.run = null;
      this.startError = null;
    }
  }

  async #act(run: LiveRun, action: 'pause' | 'resume' | 'stop'): Promise<boolean> {
    run.pending = action;
    run.actionError = null;
    try {
      // Stop is confirmed by run.finished; pause by the run.status event; resume by the reply.
      await call(`runs.${action}`, { id: run.id });
      if (action === 'resume') {
        run.pending = null;
      }
      return true;
    } catch (err) {
      run.pending = null;
      run.actionError = errorMessage(err);
      return false;
    }
  }

  async #refresh(run: LiveRun, current = false): Promise<void> {
    try {
      run.applyDetail(await call('runs.get', { id: run.id }), current);
    } catch (err) {
      run.actionError = errorMessage(err);
    }
  }
}

/** The one training store of the app. */
export const training = new TrainingStore();
