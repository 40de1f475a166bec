// The compute page's side of the batch stream: a BatchSource that asks the host for batches over a
// port and keeps `prefetch` of them in flight, so the GPU never waits on a round trip.
import type { Batch, BatchSource, BatchSourceStats } from '../../../images/batch-source.js';
import type { InputNormalization } from '../../../runs/config.js';
import type { ComputeBatch, FromCompute } from '../protocol.js';

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
      x: m.dtype === 'uint8' ? normalise(new Uint8Array(m.pixels), this.normalization, m.shifts ? new Float32Array(m.shifts) : null, m.views ?? 1) : new Float32Array(m.pixels),
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

/**
 * Raw NHWC 0–255 pixels → (x + shift − mean) / std with each image's lighting shift (`views`
 * consecutive views per image share one), computed as the Node loader's writeViewFloat does, so a
 * uint8 batch becomes the same floats as the loader's float32 batch of that position.
 */
export function normalise(pixels: Uint8Array, n: InputNormalization, shifts: Float32Array | null = null, views = 1): Float32Array {
  const out = new Float32Array(pixels.length);
  const [s0, s1, s2] = n.std ?? [1, 1, 1];
  const mul = [1 / s0, 1 / s1, 1 / s2];
  const images = shifts ? shifts.length / 3 : 1;
  const perImage = shifts ? pixels.length / images : pixels.length;
  if (!Number.isInteger(perImage) || perImage % (3 * views) !== 0) {
    throw new Error(`a uint8 batch of ${pixels.length} values does not split into ${images} image(s) of ${views} view(s)`);
  }
  for (let img = 0; img < images; img++) {
    const add = [0, 1, 2].map((c) => ((shifts ? shifts[img * 3 + c]! : 0) - n.mean[c]!) * mul[c]!);
    const [a0, a1, a2] = add as [number, number, number];
    const [m0, m1, m2] = mul as [number, number, number];
    for (let i = img * perImage, end = i + perImage; i < end; i += 3) {
      out[i] = pixels[i]! * m0 + a0;
      out[i + 1] = pixels[i + 1]! * m1 + a1;
      out[i + 2] = pixels[i + 2]! * m2 + a2;
    }
  }
  return out;
}
