// The message protocol between a run's host (Node: Electron main, or a test) and a browser compute
// page that trains with tfjs' webgpu/webgl backends. Plain data + ArrayBuffers only, so every
// message crosses a MessagePort by structured clone with its buffers transferred, never as JSON.
import type { ArchName, EpochMetrics, TrainConfig } from '../../api/runs.js';
import type { InputNormalization } from '../../runs/config.js';
import type { LoopPosition, LoopProgress } from '../loop.js';
import type { AdapterDescription, ComputeBackend } from '../../backends/compute-adapter.js';

export type { AdapterDescription, ComputeBackend };

/** A model and optimizer state as buffers (the layers format of checkpoint.ts, in memory). */
export interface ComputeCheckpoint {
  /** tf.io.ModelArtifacts minus weightData: topology and weight specs. */
  modelTopology: unknown;
  weightSpecs: Array<{ name: string; shape: number[]; dtype: string }>;
  weightData: ArrayBuffer;
  optimizer: { step: number; tensors: Array<{ key: string; shape: number[]; values: ArrayBuffer }> };
  position: LoopPosition;
}

/** What a compute page needs to start (or resume) training. */
export interface ComputeInit {
  config: Pick<TrainConfig, 'arch' | 'epochs' | 'lr' | 'momentum' | 'weightDecay' | 'schedule' | 'timeLimitMinutes' | 'dropout' | 'lrn' | 'init' | 'seed'>;
  numClasses: number;
  inputSize: number;
  /** Applied by the page to uint8 batches; float32 batches arrive normalised already. */
  normalization: InputNormalization;
  trainBatches: number;
  valBatches: number;
  /** Where to continue from; absent for a fresh network. */
  checkpoint?: ComputeCheckpoint;
  /** Batches the page asks for ahead of the one it trains on (default 3). */
  prefetch?: number;
}

/**
 * One batch sent to the page; its buffers are transferred. uint8 = raw 0–255 NHWC views (cropped and
 * mirrored) that the page normalises with `shifts` (PCA lighting, 3 floats per image) — a quarter of
 * float32's bytes; float32 = normalised already.
 */
export interface ComputeBatch {
  stream: 'train' | 'val';
  /** The epoch and request number this answers (stale answers after a seek are dropped). */
  ticket: number;
  pixels: ArrayBuffer;
  dtype: 'uint8' | 'float32';
  /** uint8 with lighting: Float32Array of 3 per image, added before normalising. */
  shifts?: ArrayBuffer;
  shape: [number, number, number, number];
  labels: ArrayBuffer;
  ids: ArrayBuffer;
  views?: number;
  epoch: number;
  index: number;
}

/** Host → page. */
export type ToCompute =
  | { type: 'open'; backend: ComputeBackend }
  | { type: 'probe'; steps?: number }
  | { type: 'adapters' }
  | { type: 'self-check'; tolerance?: number }
  | { type: 'speed'; arch: ArchName; inputSize: number; batchSize: number; steps: number }
  | { type: 'init'; init: ComputeInit }
  | ({ type: 'batch' } & ComputeBatch)
  | { type: 'end-of-epoch'; stream: 'train' | 'val'; ticket: number }
  | { type: 'control'; action: 'pause' | 'resume' | 'stop' }
  | { type: 'checkpoint-saved'; ok: boolean; error: string | null };

/** Page → host. */
export type FromCompute =
  | { type: 'ready'; adapter: AdapterDescription }
  | { type: 'probe'; secondsPerStep: number }
  | { type: 'adapters'; adapters: Array<AdapterDescription | { backend: ComputeBackend; unavailable: string }> }
  | { type: 'speed'; speed: { backend: string; arch: string; inputSize: number; batchSize: number; steps: number; imagesPerSecond: number; firstStepSeconds: number } }
  | { type: 'self-check'; results: Array<{ op: string; forward: number; gradients: number[]; ok: boolean; error?: string }> }
  | { type: 'want'; stream: 'train' | 'val'; ticket: number; count: number }
  | { type: 'seek'; stream: 'train' | 'val'; ticket: number; epoch: number; startBatch: number }
  | { type: 'progress'; progress: LoopProgress }
  | { type: 'status'; status: 'running' | 'paused' }
  | ({ type: 'checkpoint'; reason: 'epoch' | 'stopped'; metrics: EpochMetrics | null } & ComputeCheckpoint)
  | { type: 'finished'; outcome: 'completed' | 'stopped' | 'time-limit'; position: LoopPosition }
  | { type: 'error'; message: string; deviceLost: boolean };

/** The half of a MessagePort (DOM, Electron's MessagePortMain bridged, or a test double) the protocol needs. */
export interface ComputeEndpoint<In, Out> {
  post(message: Out, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: In) => void): void;
}

/** The buffers of a message, for the transfer list. */
export function transferablesOf(message: ToCompute | FromCompute): ArrayBuffer[] {
  switch (message.type) {
    case 'batch':
      return [message.pixels, message.labels, message.ids, ...(message.shifts ? [message.shifts] : [])];
    case 'checkpoint':
      return [message.weightData, ...message.optimizer.tensors.map((t) => t.values)];
    case 'init':
      return message.init.checkpoint ? [message.init.checkpoint.weightData, ...message.init.checkpoint.optimizer.tensors.map((t) => t.values)] : [];
    default:
      return [];
  }
}

/**
 * Waits for the next message of `type` (subscribing through `subscribe`, which returns its unsubscribe);
 * rejects on an `error` message, when `lost` resolves with a reason, or after `timeoutMs` (default: never).
 */
export function awaitReply<T extends FromCompute['type']>(
  subscribe: (listener: (m: FromCompute) => void) => () => void,
  lost: Promise<string>,
  type: T,
  timeoutMs = Infinity,
): Promise<Extract<FromCompute, { type: T }>> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`))), timeoutMs) : null;
    const unsubscribe = subscribe((m) => {
      if (m.type === type) {
        finish(() => resolve(m as Extract<FromCompute, { type: T }>));
      } else if (m.type === 'error') {
        finish(() => reject(new Error(m.message)));
      }
    });
    function finish(settle: () => void): void {
      if (!done) {
        done = true;
        if (timer) {
          clearTimeout(timer);
        }
        unsubscribe();
        settle();
      }
    }
    void lost.then((reason) => finish(() => reject(new Error(reason))));
  });
}
