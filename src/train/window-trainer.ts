// The trainer of a compute window's run: a proxy that speaks the compute protocol (compute/protocol.ts)
// to the window's page (compute/page/runner.ts), which trains with webgpu/webgl. Batches go out as the
// session's loaders make them (uint8 views, transferred, normalised by the page); checkpoints come back
// and are saved in checkpoint.ts' format, so the run resumes on any backend.
import type { BackendName } from '../api/app.js';
import type { TrainConfig } from '../api/runs.js';
import { adapterLabelOf } from '../backends/webgpu-host.js';
import { ARCHS } from '../model/index.js';
import { toComputeCheckpoint } from './compute/artifacts.js';
import { saveComputeCheckpoint } from './compute/worker/checkpoint.js';
import { createBatchFeeder } from './compute/worker/feeder.js';
import { awaitReply, type ComputeBackend, type FromCompute, type ToCompute } from './compute/protocol.js';
import { TrainerLost, type Trainer, type TrainerBackend, type TrainerDataNeeds, type TrainJob, type TrainResult } from './trainer.js';

/** The compute window as the session sees it: protocol messages both ways, and its loss. */
export interface ComputeLink {
  post(m: ToCompute, transfer: ArrayBuffer[]): void;
  onMessage(listener: (m: FromCompute) => void): void;
  /** Resolves with a reason if the window's renderer or GPU process goes away. */
  lost: Promise<string>;
}

/** Trains in the compute window behind `link`; `chosen` is the backend auto resolved to, else the config's. */
export class WindowTrainer implements Trainer<'uint8'> {
  readonly output = 'uint8';
  readonly place = 'in the compute window';
  private readonly listeners = new Set<(m: FromCompute) => void>();
  /** Set once the window or its GPU is gone: then a failed reply means the trainer was lost, not that training failed. */
  private lostReason: string | null = null;
  private backend: ComputeBackend = 'webgpu';

  constructor(
    private readonly link: ComputeLink,
    private readonly chosen?: BackendName,
  ) {
    link.onMessage((m) => {
      if (m.type === 'error' && m.deviceLost) {
        this.lostReason ??= m.message;
      }
      this.listeners.forEach((l) => l(m));
    });
    void link.lost.then((reason) => (this.lostReason ??= reason));
  }

  async open(config: TrainConfig): Promise<TrainerBackend> {
    this.backend = (this.chosen ?? config.backend) as ComputeBackend;
    this.link.post({ type: 'open', backend: this.backend }, []);
    const { adapter } = await this.reply('ready');
    const device = adapterLabelOf(adapter);
    return { name: this.backend, device, threads: null, description: `Backend ${this.backend} in the compute window (${device}).` };
  }

  async prepare(): Promise<TrainerDataNeeds> {
    return {};
  }

  async train(job: TrainJob<'uint8'>): Promise<TrainResult> {
    const { config, data, checkpoint, runDir } = job;
    const { trainLoader, valLoader } = data;
    let feederError: Error | null = null;
    this.listeners.add(createBatchFeeder({ train: trainLoader, val: valLoader }, (m, transfer) => this.link.post(m, transfer), (err) => (feederError = err)));
    this.listeners.add((m) => {
      if (m.type === 'progress') {
        job.progress(m.progress);
      } else if (m.type === 'status') {
        job.statusChanged(m.status);
      } else if (m.type === 'checkpoint') {
        // The page waits for this answer before it goes on, so a lost device loses at most one epoch.
        void saveComputeCheckpoint(runDir, m, job.meta).then(
          () => {
            job.record(m.metrics ?? null, m.position);
            this.link.post({ type: 'checkpoint-saved', ok: true, error: feederError?.message ?? null }, []);
          },
          (err: Error) => this.link.post({ type: 'checkpoint-saved', ok: false, error: err.message }, []),
        );
      }
    });
    const finished = this.reply('finished');
    const resumeFrom = checkpoint ? toComputeCheckpoint(checkpoint.artifacts, checkpoint.sgd, checkpoint.meta.position) : null;
    this.link.post(
      {
        type: 'init',
        init: {
          config: { ...config, lrn: config.lrn ?? ARCHS[config.arch].defaultLrn },
          numClasses: data.snapshot.classes.length,
          inputSize: data.inputSize,
          normalization: data.norm,
          trainBatches: trainLoader.batchesPerEpoch,
          valBatches: valLoader?.batchesPerEpoch ?? 0,
          ...(resumeFrom ? { checkpoint: resumeFrom } : {}),
        },
      },
      resumeFrom ? [resumeFrom.weightData, ...resumeFrom.optimizer.tensors.map((t) => t.values)] : [],
    );
    const { outcome, position } = await finished;
    return { outcome, position };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** The window's next message of `type`; a lost window or GPU rejects with TrainerLost, an error in training with its message. */
  private async reply<T extends FromCompute['type']>(type: T): Promise<Extract<FromCompute, { type: T }>> {
    const subscribe = (l: (m: FromCompute) => void): (() => void) => {
      this.listeners.add(l);
      return () => this.listeners.delete(l);
    };
    try {
      return await awaitReply(subscribe, this.link.lost, type);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw this.lostReason !== null ? new TrainerLost(message) : err;
    }
  }
}
