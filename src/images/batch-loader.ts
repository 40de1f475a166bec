import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import type { AugmentOptions } from './batch-assembly.js';
import type { Batch, BatchSourceStats, RawBatch } from './batch-source.js';
import type { FromWorker, ToWorker, WorkerInit } from './loader-messages.js';
import type { OpenPackOptions } from './open-pack.js';
import { siblingModule, spawnWorker } from './spawn-worker.js';

/** Options of createBatchLoader. */
export interface BatchLoaderOptions {
  packFile: string;
  /** Image ids to serve (each must be in the pack). */
  ids: ArrayLike<number>;
  /** Labels aligned with ids; defaults to the labels stored in the pack. */
  labels?: ArrayLike<number>;
  batchSize: number;
  inputSize: number;
  /** Train: shuffled per (seed, epoch) and augmented. Eval: in order, centre crop (or ten-crop). */
  train: boolean;
  /** Train-time augmentation; default random crop + flip, no PCA lighting. */
  augment?: AugmentOptions;
  /** Per-channel mean on the 0–255 scale, subtracted from every pixel. */
  mean: ArrayLike<number>;
  /** Per-channel divisor after mean subtraction; default 1. */
  std?: ArrayLike<number>;
  seed: number;
  epoch: number;
  /** First batch to produce (resume in the middle of an epoch); default 0. */
  startBatch?: number;
  /** Batches kept ready ahead of the consumer; default 2. */
  prefetch?: number;
  /** Eval views per image; default 'center'. */
  evalViews?: 'center' | 'ten-crop';
  /** Drop the last incomplete batch of an epoch; default false (every id once per epoch). */
  dropLast?: boolean;
  preload?: OpenPackOptions['preload'];
  /** float32: normalised network input (default). uint8: raw views + lighting shifts (RawBatch), for a consumer that normalises itself. */
  output?: 'float32' | 'uint8';
}

/** The batch type a loader with these options yields. */
export type LoaderBatch<O extends { output?: 'float32' | 'uint8' | undefined }> = O['output'] extends 'uint8' ? RawBatch : Batch;

/** A batch source backed by a worker thread reading a packed cache (a BatchSource when B is Batch). */
export interface BatchLoader<B extends Batch | RawBatch = Batch> {
  readonly batchesPerEpoch: number;
  next(): Promise<B | null>;
  close(): Promise<void>;
  readonly epoch: number;
  seek(epoch: number, startBatch?: number): void;
  stats(): BatchSourceStats;
}

type BatchMessage = Extract<FromWorker, { type: 'batch' }>;

/** Starts a worker that reads, augments and prefetches batches from a pack; resolves once the worker has opened it. */
export async function createBatchLoader<O extends BatchLoaderOptions>(options: O): Promise<BatchLoader<LoaderBatch<O>>> {
  const init = workerInit(options);
  const worker = spawnWorker(siblingModule(import.meta.url, 'batch-worker'), { workerData: init });
  const loader = new WorkerBatchLoader<LoaderBatch<O>>(worker, init);
  await loader.ready;
  return loader;
}

function workerInit(o: BatchLoaderOptions): WorkerInit {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v <= 0) {
      throw new Error(`${name} must be a positive integer, got ${v}`);
    }
  };
  positiveInt('batchSize', o.batchSize);
  positiveInt('inputSize', o.inputSize);
  positiveInt('prefetch', o.prefetch ?? 2);
  const ids = Int32Array.from(o.ids);
  if (ids.length === 0) {
    throw new Error('createBatchLoader needs at least one id');
  }
  if (new Set(ids).size !== ids.length) {
    throw new Error('createBatchLoader: ids must be unique');
  }
  if (o.labels && o.labels.length !== ids.length) {
    throw new Error(`labels (${o.labels.length}) must align with ids (${ids.length})`);
  }
  if (o.mean.length !== 3 || (o.std && (o.std.length !== 3 || Array.from(o.std).some((s) => !(s > 0))))) {
    throw new Error('mean needs 3 values and std 3 positive values');
  }
  const batchesPerEpoch = o.dropLast ? Math.floor(ids.length / o.batchSize) : Math.ceil(ids.length / o.batchSize);
  if (batchesPerEpoch === 0) {
    throw new Error(`${ids.length} ids make no full batch of ${o.batchSize}`);
  }
  return {
    packFile: o.packFile,
    preload: o.preload ?? 'auto',
    ids,
    labels: o.labels ? Int32Array.from(o.labels) : null,
    batchSize: o.batchSize,
    batchesPerEpoch,
    config: {
      inputSize: o.inputSize,
      train: o.train,
      augment: o.augment ?? { crop: true, flip: true, pca: null },
      norm: { mean: Array.from(o.mean), std: o.std ? Array.from(o.std) : [1, 1, 1] },
      evalViews: o.evalViews ?? 'center',
      output: o.output ?? 'float32',
    },
    seed: o.seed,
    epoch: o.epoch,
    startBatch: checkStart(o.startBatch ?? 0, batchesPerEpoch),
    prefetch: o.prefetch ?? 2,
  };
}

function checkStart(startBatch: number, batchesPerEpoch: number): number {
  if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > batchesPerEpoch) {
    throw new Error(`startBatch ${startBatch} outside 0..${batchesPerEpoch}`);
  }
  return startBatch;
}

class WorkerBatchLoader<B extends Batch | RawBatch> implements BatchLoader<B> {
  readonly batchesPerEpoch: number;
  readonly ready: Promise<void>;
  epoch: number;
  private seq = 0;
  private nextIndex: number;
  private queue: B[] = [];
  private waiters: Array<{ resolve: (b: B | null) => void; reject: (e: Error) => void }> = [];
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;
  private producedImages = 0;
  private busyMs = 0;
  private waitMs = 0;
  private deliveredImages = 0;
  private deliveredBatches = 0;
  private readonly exited: Promise<unknown>;

  constructor(
    private readonly worker: Worker,
    init: WorkerInit,
  ) {
    this.batchesPerEpoch = init.batchesPerEpoch;
    this.epoch = init.epoch;
    this.nextIndex = init.startBatch;
    // Not events.once: that rejects on an 'error' event, which fail() already reports.
    this.exited = new Promise((resolve) => worker.once('exit', resolve));
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          resolve();
        } else if (message.type === 'error') {
          this.fail(new Error(message.message));
          reject(this.failure);
        } else {
          this.receive(message);
        }
      });
      worker.on('error', (err) => {
        this.fail(err);
        reject(err);
      });
      worker.on('exit', (code) => {
        if (!this.closing) {
          this.fail(new Error(`batch worker exited unexpectedly (code ${code})`));
          reject(this.failure);
        }
      });
    });
    // The ready promise is awaited by createBatchLoader; later rejections surface through next().
    this.ready.catch(() => undefined);
  }

  next(): Promise<B | null> {
    if (this.failure) {
      return Promise.reject(this.failure);
    }
    if (this.closing) {
      return Promise.reject(new Error('batch loader is closed'));
    }
    if (this.nextIndex >= this.batchesPerEpoch) {
      return Promise.resolve(null);
    }
    // Batches arrive in order, so while this epoch has batches left the head of the queue is one of them.
    const batch = this.queue.shift();
    if (batch) {
      return Promise.resolve(this.deliver(batch));
    }
    if (this.nextIndex + this.waiters.length >= this.batchesPerEpoch) {
      return Promise.resolve(null);
    }
    const started = performance.now();
    return new Promise<B | null>((resolve, reject) => {
      this.waiters.push({
        resolve: (b) => {
          this.waitMs += performance.now() - started;
          resolve(b);
        },
        reject,
      });
    });
  }

  seek(epoch: number, startBatch = 0): void {
    checkStart(startBatch, this.batchesPerEpoch);
    if (this.closing || this.failure) {
      throw this.failure ?? new Error('batch loader is closed');
    }
    // Whoever was waiting for the old epoch's end gets it.
    this.waiters.splice(0).forEach((w) => w.resolve(null));
    const continues = epoch === this.epoch + 1 && startBatch === 0 && this.nextIndex >= this.batchesPerEpoch;
    this.epoch = epoch;
    this.nextIndex = startBatch;
    if (continues) {
      // The worker ran on into this epoch: what it prefetched is still valid.
      return;
    }
    this.seq++;
    const dropped = this.queue.length;
    this.queue = [];
    this.send({ type: 'seek', seq: this.seq, epoch, startBatch });
    if (dropped > 0) {
      this.send({ type: 'credit', n: dropped });
    }
  }

  stats(): BatchSourceStats {
    return {
      imagesPerSec: this.busyMs > 0 ? (this.producedImages * 1000) / this.busyMs : 0,
      waitMs: this.waitMs,
      buffered: this.queue.length,
      images: this.deliveredImages,
      batches: this.deliveredBatches,
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.waiters.splice(0).forEach((w) => w.reject(new Error('batch loader closed')));
      this.queue = [];
      try {
        this.send({ type: 'close' });
      } catch {
        await this.worker.terminate();
      }
      await this.exited;
    })();
    return this.closing;
  }

  private receive(message: BatchMessage): void {
    if (message.seq !== this.seq) {
      this.send({ type: 'credit', n: 1 });
      return;
    }
    this.producedImages += message.ids.length;
    this.busyMs += message.busyMs;
    // The worker makes what init.config.output asks for: Float32Array x for Batch, Uint8Array x + shifts for RawBatch.
    const batch = {
      x: message.x,
      ...(message.x instanceof Uint8Array ? { shifts: message.shifts } : {}),
      shape: message.shape,
      labels: message.labels,
      ids: message.ids,
      views: message.views,
      epoch: message.epoch,
      index: message.index,
    } as B;
    const waiter = message.epoch === this.epoch ? this.waiters.shift() : undefined;
    if (waiter) {
      waiter.resolve(this.deliver(batch));
    } else {
      this.queue.push(batch);
    }
  }

  private deliver(batch: B): B {
    this.nextIndex++;
    this.deliveredBatches++;
    this.deliveredImages += batch.ids.length;
    this.send({ type: 'credit', n: 1 });
    return batch;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiters.splice(0).forEach((w) => w.reject(err));
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }
}
