// The compute page's side of the batch stream: a BatchSource that asks the host for batches over a
// port and keeps `prefetch` of them in flight, so the GPU never waits on a round trip.
import type { Batch, BatchSource, BatchSourceStats } from '../images/batch-source.js';
import type { InputNormalization } from './config.js';
import type { ComputeBatch, FromCompute } from './compute-protocol.js';

/** A BatchSource fed by `deliver()`/`endOfEpoch()` (called by the page's message router). */
export class PortBatchSource implements BatchSource {
  private ticket = 0;
  private seeked = false;
  private readonly queue: Batch[] = [];
  private ended = false;
  private waiter: (() => void) | null = null;
  private readonly totals = { images: 0, batches: 0, waitMs: 0 };

  constructor(
    private readonly stream: 'train' | 'val',
    readonly batchesPerEpoch: number,
    private readonly send: (m: FromCompute) => void,
    private readonly normalization: InputNormalization,
    private readonly prefetch = 3,
  ) {}

  /** Starts an epoch on the host from `startBatch`; batches of earlier requests are dropped on arrival. */
  seek(epoch: number, startBatch = 0): void {
    this.ticket += 1;
    this.seeked = true;
    this.queue.length = 0;
    this.ended = false;
    this.send({ type: 'seek', stream: this.stream, ticket: this.ticket, epoch, startBatch });
    this.send({ type: 'want', stream: this.stream, ticket: this.ticket, count: this.prefetch });
  }

  /** Next batch of the epoch; asks for one more for every one taken. */
  async next(): Promise<Batch | null> {
    if (!this.seeked) {
      this.seek(0, 0);
    }
    const t0 = performance.now();
    while (this.queue.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    this.totals.waitMs += performance.now() - t0;
    const batch = this.queue.shift();
    if (!batch) {
      return null;
    }
    this.send({ type: 'want', stream: this.stream, ticket: this.ticket, count: 1 });
    this.totals.images += batch.labels.length;
    this.totals.batches += 1;
    return batch;
  }

  /** A batch from the host; dropped when it answers an older seek. */
  deliver(m: ComputeBatch): void {
    if (m.ticket !== this.ticket) {
      return;
    }
    const batch: Batch = {
      x: m.dtype === 'uint8' ? normalise(new Uint8Array(m.pixels), this.normalization) : new Float32Array(m.pixels),
      shape: m.shape,
      labels: new Int32Array(m.labels),
      ids: new Int32Array(m.ids),
      epoch: m.epoch,
      index: m.index,
      ...(m.views ? { views: m.views } : {}),
    };
    this.queue.push(batch);
    this.wake();
  }

  /** The host has no more batches for the current epoch. */
  endOfEpoch(ticket: number): void {
    if (ticket === this.ticket) {
      this.ended = true;
      this.wake();
    }
  }

  stats(): BatchSourceStats {
    return { imagesPerSec: NaN, waitMs: this.totals.waitMs, buffered: this.queue.length, images: this.totals.images, batches: this.totals.batches };
  }

  async close(): Promise<void> {
    this.queue.length = 0;
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

/** Raw NHWC 0–255 pixels → (x − mean) / std, as the Node loader does for float batches. */
export function normalise(pixels: Uint8Array, n: InputNormalization): Float32Array {
  const out = new Float32Array(pixels.length);
  const [m0, m1, m2] = n.mean;
  const [s0, s1, s2] = n.std ?? [1, 1, 1];
  for (let i = 0; i < pixels.length; i += 3) {
    out[i] = (pixels[i]! - m0) / s0;
    out[i + 1] = (pixels[i + 1]! - m1) / s1;
    out[i + 2] = (pixels[i + 2]! - m2) / s2;
  }
  return out;
}
